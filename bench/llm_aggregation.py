"""Benchmark of the LLM cost stream.

Prints, for N synthetic generations (default 1,000,000: 200 agents, 30 models, cache and reasoning keys,
5 % unpriced) delivered as Langfuse v2 JSON pages of 1,000 rows:
  1. observations per second through decode + normalize + price + aggregate;
  2. the ratio (decode + normalize + price + aggregate) / (json decode) of the same pages   — target <= 2.0;
  3. peak memory (max RSS of a fresh process) at N and 4N                                   — target: flat;
  4. DynamoDB items written per distinct (agent, hour, model) group, on moto               — target 1.0
     (plus the touched daily rows), never one write per observation.

Usage: uv run python bench/llm_aggregation.py [--n 1000000] [--write-n 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.domain.llm import HourAggregator
from shared.domain.pricing import ModelPrice, PriceBook

AGENTS = [f"agent-{i:03d}" for i in range(200)]
PRICED_MODELS = [f"model-{i:02d}" for i in range(28)]
UNPRICED_MODELS = ["unpriced-a", "unpriced-b"]
PAGE_SIZE = 1000
DAY = "2026-03-18"
HOURS = [f"{DAY}T{h:02d}" for h in range(24)]


def bench_prices() -> list[ModelPrice]:
    rng = random.Random(7)
    return [
        ModelPrice(
            provider="bench",
            model=model,
            input_per_1k=Decimal(rng.randint(1, 500)) / 100000,
            output_per_1k=Decimal(rng.randint(1, 500)) / 10000,
            cached_read_per_1k=Decimal(rng.randint(1, 50)) / 100000 if i % 2 else None,
            reasoning_per_1k=Decimal(rng.randint(1, 500)) / 10000 if i % 3 else None,
        )
        for i, model in enumerate(PRICED_MODELS)
    ]


def price_book() -> PriceBook:
    return PriceBook(bench_prices())


def page_bytes(rng: random.Random, hour: str, start_id: int, size: int) -> bytes:
    """One v2 page as Langfuse sends it (fields core, model, usage, trace_context)."""
    rows = []
    for n in range(size):
        model = rng.choice(UNPRICED_MODELS) if rng.random() < 0.05 else rng.choice(PRICED_MODELS)
        usage: dict[str, int] = {"input": rng.randint(10, 5000), "output": rng.randint(1, 2000)}
        if rng.random() < 0.4:
            usage["input_cached_tokens"] = rng.randint(100, 20000)
        if rng.random() < 0.2:
            usage["output_reasoning_tokens"] = rng.randint(100, 8000)
        usage["total"] = sum(usage.values())
        rows.append(
            {
                "id": f"obs-{start_id + n}",
                "traceId": f"trace-{(start_id + n) // 4}",
                "startTime": f"{hour}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z",
                "endTime": f"{hour}:59:59.999Z",
                "projectId": "bench-project",
                "parentObservationId": None,
                "type": "GENERATION",
                "model": model,
                "internalModelId": None,
                "modelParameters": {"temperature": "0.2"},
                "usageDetails": usage,
                "costDetails": {},
                "totalCost": 0,
                "usagePricingTierName": None,
                "usagePricingTierId": None,
                "traceName": rng.choice(AGENTS),
                "tags": [],
                "release": None,
            }
        )
    meta = {"cursor": "bmV4dA=="} if size == PAGE_SIZE else {}
    return json.dumps({"data": rows, "meta": meta}).encode()


def pages(n: int, seed: int = 1) -> Iterator[tuple[str, bytes]]:
    """N rows spread evenly over the 24 hours of a day, as (hour, page body)."""
    rng = random.Random(seed)
    per_hour = n // len(HOURS)
    produced = 0
    for hour in HOURS:
        left = per_hour
        while left > 0:
            size = min(PAGE_SIZE, left)
            yield hour, page_bytes(rng, hour, produced, size)
            produced += size
            left -= size


def pipeline(n: int) -> dict[str, Any]:
    """Decode and aggregate N rows hour by hour; time decode and the rest separately."""
    book = price_book()
    decode = process = 0.0
    groups = observations = 0
    aggregator: HourAggregator | None = None
    for hour, body in pages(n):
        if aggregator is None or aggregator.hour != hour:
            if aggregator is not None:
                t0 = time.perf_counter()
                groups += len(aggregator.groups())
                process += time.perf_counter() - t0
                observations += aggregator.observations
            aggregator = HourAggregator(book, hour)
        t0 = time.perf_counter()
        page = json.loads(body)
        t1 = time.perf_counter()
        aggregator.add_rows(page["data"])
        process += time.perf_counter() - t1
        decode += t1 - t0
    assert aggregator is not None
    t0 = time.perf_counter()
    groups += len(aggregator.groups())
    process += time.perf_counter() - t0
    observations += aggregator.observations
    return {
        "n": n,
        "observations": observations,
        "groups": groups,
        "decode_s": decode,
        "process_s": process,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_in_fresh_process(n: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(n)], check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def dynamodb_writes(n: int) -> dict[str, Any]:
    """Run the real service on moto with a fake Langfuse source and count items in DynamoDB write calls."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    from botocore.client import BaseClient
    from moto import mock_aws

    from shared.config import get_settings
    from shared.dal.factory import reset_repositories
    from shared.dal.llm_costs import HourlyCostModel
    from shared.dal.pricing import pricing_repository
    from shared.dal.registry import create_all_tables
    from shared.services.llm_costs import HourWindow, LlmCostService

    class BenchSource:
        requests_made = 0

        def __init__(self) -> None:
            self.by_hour: dict[str, list[bytes]] = {}
            for hour, body in pages(n, seed=3):
                self.by_hour.setdefault(hour, []).append(body)

        def observation_pages(self, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
            for body in self.by_hour.get(start.strftime("%Y-%m-%dT%H"), []):
                self.requests_made += 1
                yield json.loads(body)["data"]

    with mock_aws():
        reset_repositories()
        create_all_tables(get_settings())
        pricing_repository().save_prices(bench_prices())
        items = {"put": 0, "delete": 0, "update": 0}
        original = BaseClient._make_api_call

        def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
            # Count the items every DynamoDB write request carries, whatever code path sends it.
            if operation == "BatchWriteItem":
                for requests in params.get("RequestItems", {}).values():
                    for request in requests:
                        items["put" if "PutRequest" in request else "delete"] += 1
            elif operation in ("PutItem", "DeleteItem", "UpdateItem"):
                items[{"PutItem": "put", "DeleteItem": "delete", "UpdateItem": "update"}[operation]] += 1
            return original(client, operation, params)

        BaseClient._make_api_call = counting  # type: ignore[method-assign]
        service = LlmCostService()
        source = BenchSource()
        window = HourWindow(datetime(2026, 3, 18, tzinfo=UTC), datetime(2026, 3, 19, tzinfo=UTC))
        summary = service.aggregate(window, source)
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        groups = sum(1 for _ in HourlyCostModel.scan())
        reset_repositories()
    return {
        "n": n,
        "groups": groups,
        "items": items,
        "agents_registered": len(summary["newAgents"]),
        "daily_rows": service.costs.stats.daily_rows_written,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--write-n", type=int, default=24_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(pipeline(args.child)))
        return

    print(f"LLM aggregation benchmark: N={args.n:,} generations, 200 agents, 30 models (5% unpriced), pages of 1,000")
    small = run_in_fresh_process(args.n)
    large = run_in_fresh_process(4 * args.n)
    for result in (small, large):
        total = result["decode_s"] + result["process_s"]
        print(
            f"  N={result['n']:>9,}: {result['observations'] / total:>10,.0f} obs/s   "
            f"decode {result['decode_s']:6.2f} s, normalize+price+aggregate {result['process_s']:6.2f} s, "
            f"groups {result['groups']:,}, peak RSS {result['max_rss_mb']:.0f} MB"
        )
    ratio = (small["decode_s"] + small["process_s"]) / small["decode_s"]
    print(f"ratio (decode + normalize + price + aggregate) / decode at N: {ratio:.2f}   (target <= 2.0)")
    growth = large["max_rss_mb"] / small["max_rss_mb"]
    print(
        f"peak memory N -> 4N: {small['max_rss_mb']:.0f} MB -> {large['max_rss_mb']:.0f} MB "
        f"(x{growth:.2f}; target: flat)"
    )
    writes = dynamodb_writes(args.write_n)
    hour_items = writes["items"]["put"] + writes["items"]["delete"] - writes["daily_rows"] - writes["agents_registered"]
    print(
        f"DynamoDB at N={writes['n']:,} (moto): {writes['groups']:,} distinct (agent, hour, model) groups; "
        f"hour-row items written {hour_items:,} -> {hour_items / writes['groups']:.3f} per group (target 1.0); "
        f"plus {writes['daily_rows']} daily rows, {writes['items']['update']} rollup update(s), "
        f"{writes['agents_registered']} agent registrations, for {writes['n']:,} observations"
    )


if __name__ == "__main__":
    main()
