"""Loads the bundled demo into the embedded stack and runs the workers through their real handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.cli.run import invoke_worker
from shared.config import get_settings, set_environment
from shared.domain.cloud import default_window
from shared.local.cloud_demo import setup_cloud_demo
from shared.local.demo_data import demo_generations, demo_prices_file
from shared.local.fx_sources import start_fx_sources
from shared.local.langfuse_server import LangfuseState, LocalLangfuse
from shared.services.pricing import PricingService


@dataclass
class DemoRun:
    day: date
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cloud_window: tuple[date, date] | None = None
    servers: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.close() if hasattr(server, "close") else server.stop()


def demo_day(now: datetime | None = None) -> date:
    """Yesterday (UTC): a complete day inside every default API window."""
    return (now or datetime.now(UTC)).date() - timedelta(days=1)


def load_demo(aws_url: str, day: date | None = None) -> DemoRun:
    """Prices, a local Langfuse serving a day of generations, queued Cost Explorer answers; then the workers."""
    run = DemoRun(day or demo_day())
    PricingService().import_file(demo_prices_file())
    langfuse = LocalLangfuse(LangfuseState(observations=demo_generations(run.day))).start()
    run.servers.append(langfuse)
    set_environment(
        {
            "LANGFUSE_HOST": langfuse.url,
            "LANGFUSE_PUBLIC_KEY": langfuse.state.public_key,
            "LANGFUSE_SECRET_KEY": langfuse.state.secret_key,
        }
    )
    start = datetime.combine(run.day, datetime.min.time(), tzinfo=UTC)
    run.runs["llm-costs"] = invoke_worker("llm-costs", start.isoformat(), (start + timedelta(days=1)).isoformat())

    fx_sources = start_fx_sources()
    run.servers.append(fx_sources)
    set_environment(fx_sources.environment)
    run.runs["exchange-rates"] = invoke_worker("exchange-rates")

    settings = get_settings()
    window = default_window(datetime.now(UTC).date(), settings.cloud.lookback_days, settings.cloud.restatement_days)
    setup_cloud_demo(aws_url, window.start, window.end)
    run.cloud_window = (window.start, window.end)
    run.runs["cloud-costs"] = invoke_worker("cloud-costs")
    return run
