"""The bundled demo: prices and days of Langfuse-shaped generations, generated deterministically."""

from __future__ import annotations

import random
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

DEMO_AGENTS = ("support-agent", "research-agent", "planner-agent")
UNPRICED_MODEL = "acme-finetune-v2"


def demo_prices_file() -> Path:
    return Path(str(resources.files("shared.local") / "demo_data" / "prices.json"))


def _generation(rng: random.Random, i: int, day: date, hour: int) -> dict[str, Any]:
    roll = rng.random()
    trace: str | None = DEMO_AGENTS[i % 3]
    kind = "GENERATION"
    params: dict[str, Any] = {}
    if roll < 0.35:
        model = "gpt-4o"
        prompt = rng.randint(400, 6000)
        cached = rng.choice([0, 0, prompt // 2])
        usage = {"input": prompt - cached, "input_cached_tokens": cached, "output": rng.randint(50, 900)}
    elif roll < 0.60:
        model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        trace = "research-agent"
        usage = {
            "input": rng.randint(10, 400),
            "cache_read_input_tokens": rng.randint(8000, 30000),
            "cache_creation_input_tokens": rng.choice([0, 1500]),
            "output": rng.randint(200, 2000),
        }
    elif roll < 0.78:
        model = "o3"
        trace = "planner-agent"
        usage = {
            "input": rng.randint(1000, 5000),
            "output": rng.randint(100, 800),
            "output_reasoning_tokens": rng.randint(500, 4000),
        }
        params = {"reasoning_effort": "medium"}
    elif roll < 0.88:
        model = "text-embedding-3-small"
        kind = "EMBEDDING"
        usage = {"input": rng.randint(100, 3000)}
    elif roll < 0.95:
        model = UNPRICED_MODEL  # no price configured: shown as unpriced, never $0 in silence
        trace = "support-agent"
        usage = {"input": rng.randint(200, 1500), "output": rng.randint(20, 300)}
    else:
        model = "gpt-4o-mini"
        trace = None  # no trace name: booked to the visible "unattributed" agent
        usage = {"input": rng.randint(100, 2000), "output": rng.randint(10, 200)}
    usage["total"] = sum(usage.values())
    minute, second, millis = rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999)
    return {
        "id": f"demo-{day.isoformat()}-{i:05d}",
        "traceId": f"demo-trace-{i // 3:05d}",
        "type": kind,
        "startTime": f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z",
        "traceName": trace,
        "model": model,
        "modelParameters": params,
        "usageDetails": usage,
        "environment": "production",
    }


def demo_generations(day: date, per_hour: int = 12, seed: int = 20261204) -> list[dict[str, Any]]:
    """A day of generations across three agents, with cache, reasoning, embedding and unpriced usage.

    Deterministic per (seed, day): every day of a multi-day demo differs, and the same day is always the same.
    """
    rng = random.Random(f"{seed}-{day.isoformat()}")
    rows = []
    for hour in range(24):
        for n in range(per_hour):
            rows.append(_generation(rng, hour * per_hour + n, day, hour))
    return rows
