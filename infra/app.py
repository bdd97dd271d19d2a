"""The CDK app: ``cdk synth`` / ``cdk deploy`` run ``python -m infra.app`` (see cdk.json)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from infra import constants as c
from infra.context import DeployConfig
from infra.stack import MusterCostsStack

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of cdk.json. The cdk CLI passes it itself; ``python -m infra.synth`` and tests need it too."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text()).get("context", {})
    return context


def create_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """An app holding the stack. cdk.json context is the base; ``context`` overrides it; the CLI's wins over both."""
    app = cdk.App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    MusterCostsStack(app, c.STACK_NAME, config=DeployConfig.from_node(app.node))
    return app


def main() -> None:
    create_app().synth()


if __name__ == "__main__":
    main()
