"""boto3 clients built from the settings: one place honours the endpoint override (moto, local mode)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from shared.config import Settings


def aws_client(
    service: str,
    settings: Settings,
    session: boto3.Session | None = None,
    region: str | None = None,
    **config: Any,
) -> Any:
    """A client for ``service`` in the configured region (or ``region``), at ``MUSTER_ENDPOINT_URL`` when set.

    ``session`` carries other credentials (e.g. an assumed role's); ``config`` goes to botocore's ``Config``.
    """
    return (session or boto3.Session()).client(
        service,  # type: ignore[call-overload]
        region_name=region or settings.region,
        endpoint_url=settings.endpoint_url,
        config=Config(**config) if config else None,
    )
