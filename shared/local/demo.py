"""Loads the bundled demo into the embedded stack and runs the workers through their real handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from shared.cli.run import invoke_worker
from shared.config import get_settings, set_environment
from shared.domain.cloud import default_window
from shared.local.cloud_demo import setup_cloud_demo
from shared.local.demo_data import demo_generations, demo_prices_file
from shared.local.fx_sources import start_fx_sources
from shared.local.langfuse_server import LangfuseState, LocalLangfuse
from shared.services.pricing import PricingService

DEMO_LLM_DAYS = 7
DEMO_GENERATIONS_PER_HOUR = 12  # 7 days x 24 hours x 12 = 2,016 generations: several days, still fast


class Closeable(Protocol):
    def close(self) -> None: ...


@dataclass
class DemoRun:
    llm_days: tuple[date, date]  # first and last day with generations (inclusive)
    today: date
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cloud_window: tuple[date, date] | None = None
    servers: list[Closeable] = field(default_factory=list)

    @property
    def window(self) -> tuple[date, date]:
        """The days worth showing: the first demo LLM day up to today (the cloud rows run to today)."""
        return self.llm_days[0], self.today

    def stop(self) -> None:
        for server in self.servers:
            server.close()


def demo_days(now: datetime | None = None, days: int = DEMO_LLM_DAYS) -> tuple[date, date]:
    """The last ``days`` complete UTC days: inside every default API window."""
    today = (now or datetime.now(UTC)).date()
    return today - timedelta(days=days), today - timedelta(days=1)


def load_demo(aws_url: str, now: datetime | None = None) -> DemoRun:
    """Prices, a local Langfuse serving a week of generations, recorded FX answers, queued Cost Explorer
    answers; then the three workers through their handlers."""
    now = now or datetime.now(UTC)
    first, last = demo_days(now)
    run = DemoRun((first, last), now.date())
    PricingService().import_file(demo_prices_file())
    observations = [
        row
        for offset in range((last - first).days + 1)
        for row in demo_generations(first + timedelta(days=offset), per_hour=DEMO_GENERATIONS_PER_HOUR)
    ]
    langfuse = LocalLangfuse(LangfuseState(observations=observations)).start()
    run.servers.append(langfuse)
    set_environment(
        {
            "LANGFUSE_HOST": langfuse.url,
            "LANGFUSE_PUBLIC_KEY": langfuse.state.public_key,
            "LANGFUSE_SECRET_KEY": langfuse.state.secret_key,
        }
    )
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    run.runs["llm-costs"] = invoke_worker("llm-costs", start.isoformat(), end.isoformat())

    fx_sources = start_fx_sources()
    run.servers.append(fx_sources)
    set_environment(fx_sources.environment)
    run.runs["exchange-rates"] = invoke_worker("exchange-rates")

    settings = get_settings()
    window = default_window(now.date(), settings.cloud.lookback_days, settings.cloud.restatement_days)
    setup_cloud_demo(aws_url, window.start, window.end)
    run.cloud_window = (window.start, window.end)
    run.runs["cloud-costs"] = invoke_worker("cloud-costs")
    return run
