"""``muster-costs local``: the embedded stack (moto on 127.0.0.1), the local API, the demo, and what it shows.

The figures printed here come from the local API over HTTP (the same Lambda handler API Gateway invokes),
so the demo shows what a dashboard would get.
"""

from __future__ import annotations

import argparse
import threading
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from shared.cli.output import console, print_json, print_table
from shared.cli.rates import print_rates
from shared.domain.fx import USD, format_amount
from shared.errors import ConfigurationError, SourceError
from shared.local.api_server import LocalApiServer
from shared.local.stack import EmbeddedStack

DEMO_REPORT_FILE = "demo-report.html"  # written in the working directory (git-ignored)
OTHER_CURRENCY = "EUR"  # the demo also shows its figures in this currency (USD when EUR is the default)


def api_get(base_url: str, path: str, **params: str) -> Any:
    """GET a route of the local API and return its JSON (errors become one clear line)."""
    try:
        response = requests.get(f"{base_url}{path}", params=params, timeout=30)
    except requests.RequestException as exc:
        raise SourceError(f"the local API did not answer {path}: {exc}") from exc
    if response.status_code != 200:
        raise SourceError(f"the local API answered {path} with {response.status_code}: {response.text[:300]}")
    return response.json()


def money(amount: str, currency: str) -> str:
    """An exact amount from the API, rounded for display only (IDR without decimals, others to cents)."""
    return format_amount(Decimal(amount), currency, grouping=True)


def describe_fx(currency: str, fx: dict[str, Any]) -> str:
    if currency == USD:
        return "USD (no conversion)"
    notes = [note for note, flag in (("stale", fx["stale"]), ("fallback source", fx["fallback"])) if flag]
    suffix = f" — {', '.join(notes)}" if notes else ""
    if fx["mode"] == "latest":
        return f"{currency} at {fx['rate']} per USD ({fx['source']}, rate of {fx['rateDate']}){suffix}"
    sources = ", ".join(fx["sources"])
    return f"{currency} at each day's rate ({sources}, rates of {fx['rateDateFrom']} to {fx['rateDateTo']}){suffix}"


def print_workers(runs: dict[str, dict[str, Any]]) -> None:
    llm, rates, cloud = runs["llm-costs"], runs["exchange-rates"], runs["cloud-costs"]
    console.print(
        "Workers, run through their Lambda handlers:\n"
        f"  llm-costs       {llm['observations']:,} Langfuse generations over {llm['hoursWritten']} hours "
        f"({llm['requests']} requests), {llm['unpricedObservations']} without a price\n"
        f"  exchange-rates  {rates['stored']} rates stored from the recorded ECB, BNM and BI answers\n"
        f"  cloud-costs     {cloud['costExplorerRequests']} Cost Explorer request(s) for {cloud['connections']} "
        f"connection(s), {cloud['rowsWritten']} agent-day-service rows",
        highlight=False,
        soft_wrap=True,
    )


def print_agents(base_url: str, window: tuple[date, date], currency: str) -> None:
    params = {"from": window[0].isoformat(), "to": window[1].isoformat(), "currency": currency}
    body = api_get(base_url, "/costs/agents", **params)
    rows = [
        [
            agent["agentId"],
            agent["name"] if agent["name"] != agent["agentId"] else "",
            money(agent["llmCost"], currency),
            money(agent["cloudCost"], currency),
            money(agent["totalCost"], currency),
            f"{agent['inputTokens']:,}",
            f"{agent['outputTokens']:,}",
            f"{agent['observations']:,}",
        ]
        for agent in body["agents"]
    ]
    print_table(
        f"Cost per agent, {window[0].isoformat()} to {window[1].isoformat()} ({currency}) — GET /costs/agents",
        ["agent", "name", "LLM", "cloud", "combined", "input tokens", "output tokens", "calls"],
        rows,
        right_align=["LLM", "cloud", "combined", "input tokens", "output tokens", "calls"],
    )


def print_summary(base_url: str, window: tuple[date, date], currency: str, daily: bool) -> dict[str, Any]:
    params = {"from": window[0].isoformat(), "to": window[1].isoformat(), "currency": currency}
    body: dict[str, Any] = api_get(base_url, "/costs/summary", **params)
    totals = body["totals"]
    if daily:
        print_table(
            f"Per day ({currency}) — GET /costs/summary",
            ["date", "LLM", "cloud", "total", "input tokens", "output tokens", "calls"],
            [
                [
                    d["date"],
                    money(d["llmCost"], currency),
                    money(d["cloudCost"], currency),
                    money(d["totalCost"], currency),
                    f"{d['inputTokens']:,}",
                    f"{d['outputTokens']:,}",
                    f"{d['observations']:,}",
                ]
                for d in body["daily"]
            ],
            right_align=["LLM", "cloud", "total", "input tokens", "output tokens", "calls"],
        )
    console.print(
        f"Total {money(totals['totalCost'], currency)} {currency} = LLM {money(totals['llmCost'], currency)} "
        f"+ cloud {money(totals['cloudCost'], currency)}; {totals['observations']:,} LLM calls, "
        f"{totals['inputTokens']:,} input and {totals['outputTokens']:,} output tokens. "
        f"Conversion: {describe_fx(currency, body['fx'])}.",
        highlight=False,
        soft_wrap=True,
    )
    return body


def print_unpriced(summary: dict[str, Any]) -> None:
    if not summary["unpriced"]:
        return
    print_table(
        "Unpriced usage (no price configured: counted, never $0 in silence)",
        ["model", "calls", "input tokens", "output tokens"],
        [
            [u["model"], f"{u['observations']:,}", f"{u['inputTokens']:,}", f"{u['outputTokens']:,}"]
            for u in summary["unpriced"]
        ],
        right_align=["calls", "input tokens", "output tokens"],
    )
    console.print("Price it with `muster-costs pricing set ...`, then `muster-costs reprice --from ... --to ...`.")


def print_period(base_url: str) -> None:
    body = api_get(base_url, "/costs/period")
    kind = "configured period" if body["configured"] else "month to date"
    line = (
        f"Trial banner (GET /costs/period): {money(body['totalCost'], body['currency'])} {body['currency']} used, "
        f"{kind} {body['periodStart']} to {body['periodEnd']}"
    )
    if "allowance" in body:
        line += f", {body['percentUsed']} % of {money(body['allowance'], body['currency'])}"
    console.print(line + ".", highlight=False, soft_wrap=True)


def print_weekly_report() -> None:
    """The weekly report of the last full week, rendered (not sent) as the Monday worker would send it."""
    from shared.services.reports import write_demo_report

    path = write_demo_report(Path(DEMO_REPORT_FILE))
    console.print(
        f"\nWeekly report (last full week, not sent): {path}\n"
        "  preview any week with: muster-costs report --week YYYY-Www [--out FILE.html]",
        highlight=False,
        soft_wrap=True,
    )


def print_next_steps(api_url: str, aws_url: str) -> None:
    console.print(
        "\nWhere to look next (the API returns exact decimal strings; the tables above are rounded):\n"
        f"  curl -s '{api_url}/costs/summary?currency=EUR'\n"
        f"  curl -s '{api_url}/costs/agents?days=7&currency=MYR&fx=daily'\n"
        f"  curl -s '{api_url}/costs/agents/support-agent?currency=IDR'\n"
        f"  curl -s '{api_url}/costs/agents/unallocated:demo-aws'\n"
        f"  curl -s '{api_url}/costs/period'\n"
        f"  MUSTER_ENDPOINT_URL={aws_url} muster-costs settings --default-currency EUR --allowance 500\n"
        f"  MUSTER_ENDPOINT_URL={aws_url} muster-costs agents list   (also: pricing list, rates, reprice)\n"
        "  The routes and fields: docs/openapi.json",
        highlight=False,
        soft_wrap=True,
    )


def show_demo(api_url: str, aws_url: str, demo: Any) -> None:
    settings_currency = api_get(api_url, "/costs/period")["currency"]
    other = OTHER_CURRENCY if settings_currency != OTHER_CURRENCY else USD
    print_workers(demo.runs)
    print_agents(api_url, demo.window, settings_currency)
    summary = print_summary(api_url, demo.window, settings_currency, daily=True)
    print_unpriced(summary)
    print_period(api_url)
    print_agents(api_url, demo.window, other)
    print_summary(api_url, demo.window, other, daily=False)
    print_rates()
    print_weekly_report()
    print_next_steps(api_url, aws_url)


def demo_json(api_url: str, aws_url: str, demo: Any) -> dict[str, Any]:
    window = {"from": demo.window[0].isoformat(), "to": demo.window[1].isoformat()}
    return {
        "api": api_url,
        "aws": aws_url,
        "workers": demo.runs,
        "summary": api_get(api_url, "/costs/summary", **window),
        "agents": api_get(api_url, "/costs/agents", **window),
        "summaryEur": api_get(api_url, "/costs/summary", currency=OTHER_CURRENCY, **window),
    }


def _start_api(port: int) -> LocalApiServer:
    try:
        return LocalApiServer(port=port).start()
    except OSError as exc:
        raise ConfigurationError(f"cannot serve the local API on 127.0.0.1:{port} ({exc}); try --port") from exc


def _local(args: argparse.Namespace) -> int:
    from shared.local.demo import load_demo

    # Metrics are off locally; Powertools would warn once that the API emitted none.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stack = EmbeddedStack(port=args.aws_port).start()
    api = None
    demo = None
    try:
        api = _start_api(args.port)
        if not args.json:
            console.print(f"api: {api.url}", highlight=False)
            console.print(f"aws: {stack.url}", highlight=False)
        if not args.empty:
            demo = load_demo(stack.url)
            if args.json:
                print_json(demo_json(api.url, stack.url, demo))
            else:
                show_demo(api.url, stack.url, demo)
        elif args.json:
            print_json({"api": api.url, "aws": stack.url})
        if args.once:
            return 0
        if not args.json:
            console.print("serving; Ctrl-C to stop")
        threading.Event().wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if demo is not None:
            demo.stop()
        if api is not None:
            api.stop()
        stack.stop()
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("local", help="run the embedded stack and the local API (no AWS account)")
    parser.add_argument("--port", type=int, default=8787, help="local API port (0 picks a free one)")
    parser.add_argument("--aws-port", type=int, default=5050, help="embedded AWS (moto) port (0 picks a free one)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--demo", action="store_true", default=True, help="load the bundled demo data (default)")
    mode.add_argument("--empty", action="store_true", help="start with empty tables")
    parser.add_argument("--once", action="store_true", help="print the results and exit")
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print machine-readable JSON instead"
    )
    parser.set_defaults(handler=_local)
