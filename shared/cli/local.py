"""``muster-costs local``: the embedded stack (moto on 127.0.0.1), the demo data, and the workers' results."""

from __future__ import annotations

import argparse
import threading
from datetime import date
from decimal import Decimal
from typing import Any

from shared.cli.output import console, print_table
from shared.cli.rates import print_rates
from shared.domain.money import as_text, rounded
from shared.local.stack import EmbeddedStack


def _usd(amount: Decimal) -> str:
    return f"${rounded(amount, 4)}"


def print_llm_costs(day: date) -> None:
    from shared.dal.llm_costs import llm_cost_repository
    from shared.services.agents import AgentService

    costs = llm_cost_repository()
    agent_ids = sorted({a.agent_id for a in AgentService().list_agents()} | {"unattributed"})
    days = [d for agent_id in agent_ids for d in costs.daily_for_agent(agent_id, day.isoformat(), day.isoformat())]
    days.sort(key=lambda d: -d.cost)
    print_table(
        f"LLM cost per agent on {day.isoformat()} (USD)",
        ["agent", "llm cost", "calls", "input", "cached read", "cache write", "output", "reasoning", "unpriced calls"],
        [
            [
                d.agent_id,
                _usd(d.cost),
                d.observations,
                d.tokens.input,
                d.tokens.cached_read,
                d.tokens.cache_write,
                d.tokens.output,
                d.tokens.reasoning,
                d.unpriced_observations or "",
            ]
            for d in days
        ],
        right_align=[
            "llm cost",
            "calls",
            "input",
            "cached read",
            "cache write",
            "output",
            "reasoning",
            "unpriced calls",
        ],
    )
    unpriced = [(d.agent_id, u) for d in days for u in d.unpriced]
    if unpriced:
        print_table(
            "Unpriced usage (no price configured: add one with `muster-costs pricing set`, then `reprice`)",
            ["agent", "model", "calls", "input tokens", "output tokens"],
            [[a, u.model, u.observations, u.tokens.input_side, u.tokens.output_side] for a, u in unpriced],
            right_align=["calls", "input tokens", "output tokens"],
        )
    total = sum((d.cost for d in days), Decimal(0))
    console.print(f"LLM total: {as_text(total)} USD over {sum(d.observations for d in days)} calls")


def print_combined(first: date, last: date) -> None:
    """LLM, cloud and combined cost per agent over a range, from the per-day organization rollups."""
    from shared.dal.rollup import rollup_repository

    llm: dict[str, Decimal] = {}
    cloud: dict[str, Decimal] = {}
    for day in rollup_repository().days(first.isoformat(), last.isoformat()):
        for agent_id, figures in day.llm.items():
            llm[agent_id] = llm.get(agent_id, Decimal(0)) + figures.cost
        for agent_id, cloud_day in day.cloud.items():
            cloud[agent_id] = cloud.get(agent_id, Decimal(0)) + cloud_day.cost
    agents = sorted(set(llm) | set(cloud), key=lambda a: -(llm.get(a, Decimal(0)) + cloud.get(a, Decimal(0))))
    zero = Decimal(0)
    print_table(
        f"Cost per agent, {first.isoformat()} to {last.isoformat()} (USD)",
        ["agent", "llm", "cloud", "combined"],
        [
            [a, _usd(llm.get(a, zero)), _usd(cloud.get(a, zero)), _usd(llm.get(a, zero) + cloud.get(a, zero))]
            for a in agents
        ],
        right_align=["llm", "cloud", "combined"],
    )
    cloud_run = sum(cloud.values(), zero)
    console.print(f"Cloud total {as_text(cloud_run)} USD; LLM total {as_text(sum(llm.values(), zero))} USD")


def _local(args: argparse.Namespace) -> int:
    from shared.local.demo import load_demo

    stack = EmbeddedStack(port=args.aws_port).start()
    console.print(f"aws: {stack.url}", highlight=False)
    demo = None
    try:
        if not args.empty:
            demo = load_demo(stack.url)
            print_llm_costs(demo.day)
            print_rates()
            if demo.cloud_window:
                cloud_run = demo.runs["cloud-costs"]
                console.print(
                    f"cloud worker: {cloud_run['connections']} connection(s), "
                    f"{cloud_run['costExplorerRequests']} Cost Explorer request(s)",
                    highlight=False,
                )
                print_combined(*demo.cloud_window)
            console.print(
                f"\nNext: MUSTER_ENDPOINT_URL={stack.url} muster-costs agents list | pricing list | reprice ...",
                highlight=False,
            )
        if args.once:
            return 0
        console.print("serving; Ctrl-C to stop")
        threading.Event().wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if demo is not None:
            demo.stop()
        stack.stop()
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("local", help="run the embedded stack and the local API (no AWS account)")
    parser.add_argument("--port", type=int, default=8787, help="local API port")
    parser.add_argument("--aws-port", type=int, default=5050, help="embedded AWS (moto) port")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--demo", action="store_true", default=True, help="load the bundled demo data (default)")
    mode.add_argument("--empty", action="store_true", help="start with empty tables")
    parser.add_argument("--once", action="store_true", help="print the results and exit")
    parser.set_defaults(handler=_local)
