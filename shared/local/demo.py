"""Loads the bundled demo into the embedded stack and runs the workers through their real handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.cli.run import invoke_worker
from shared.config import set_environment
from shared.local.demo_data import demo_generations, demo_prices_file
from shared.local.langfuse_server import LangfuseState, LocalLangfuse
from shared.services.pricing import PricingService


@dataclass
class DemoRun:
    day: date
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    servers: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def demo_day(now: datetime | None = None) -> date:
    """Yesterday (UTC): a complete day inside every default API window."""
    return (now or datetime.now(UTC)).date() - timedelta(days=1)


def load_demo(day: date | None = None) -> DemoRun:
    """Prices, a local Langfuse serving a day of generations, then the LLM worker over that day."""
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
    return run
