"""The embedded stack: a moto server on 127.0.0.1 standing in for AWS, with every table created.

Every client (boto3 and PynamoDB) reaches it through ``MUSTER_ENDPOINT_URL``; credentials are fake, so
nothing can reach a real account from local mode.
"""

from __future__ import annotations

import logging
from types import TracebackType

from moto.server import ThreadedMotoServer

from shared.config import get_settings, set_environment
from shared.dal.factory import reset_repositories
from shared.dal.registry import create_all_tables

LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


class EmbeddedStack:
    """Start with ``start()`` (or as a context manager); ``url`` is the AWS endpoint."""

    def __init__(self, port: int = 5050) -> None:
        self.port = port
        self._server: ThreadedMotoServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        if self.port == 0:
            self.port = self._server.get_host_and_port()[1]
        set_environment({**LOCAL_ENVIRONMENT, "MUSTER_ENDPOINT_URL": self.url})
        reset_repositories()
        create_all_tables(get_settings())
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
