"""``muster-costs agents list|set``."""

from __future__ import annotations

import argparse
from typing import Any

from shared.cli.output import add_json_flag, emit
from shared.domain.agents import Agent
from shared.services.agents import AgentService


def agent_json(agent: Agent) -> dict[str, Any]:
    return {
        "agentId": agent.agent_id,
        "name": agent.name,
        "traceNames": list(agent.trace_names),
        "cloudConnectionId": agent.cloud_connection_id,
        "cloudService": agent.cloud_service,
        "cloudTag": agent.cloud_tag,
        "autoRegistered": agent.auto_registered,
    }


COLUMNS = ["agentId", "name", "traceNames", "cloudConnection", "cloudService", "cloudTag", "auto"]


def _row(agent: Agent) -> list[Any]:
    return [
        agent.agent_id,
        agent.name,
        ", ".join(agent.trace_names),
        agent.cloud_connection_id,
        agent.cloud_service,
        agent.cloud_tag,
        "yes" if agent.auto_registered else "",
    ]


def _list(args: argparse.Namespace) -> int:
    agents = AgentService().list_agents()
    emit(args.json, [agent_json(a) for a in agents], f"Agents: {len(agents)}", COLUMNS, [_row(a) for a in agents])
    return 0


def _set(args: argparse.Namespace) -> int:
    agent = AgentService().set_agent(
        args.agent_id,
        name=args.name,
        trace_names=args.trace_name,
        cloud_connection_id=args.cloud_connection,
        cloud_service=args.cloud_service,
        cloud_tag=args.cloud_tag,
    )
    emit(args.json, agent_json(agent), "Agent saved", COLUMNS, [_row(agent)])
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("agents", help="agents: trace names and cloud links")
    sub = parser.add_subparsers(dest="agents_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="list agents")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)

    setter = sub.add_parser("set", help="create an agent, or update only the fields given")
    setter.add_argument("agent_id", metavar="AGENT_ID")
    setter.add_argument("--name")
    setter.add_argument(
        "--trace-name", action="append", metavar="NAME", help="a Langfuse trace name this agent owns (repeatable)"
    )
    setter.add_argument("--cloud-connection", metavar="ID")
    setter.add_argument("--cloud-service", metavar="SERVICE", help="AWS service id, e.g. AmazonBedrock")
    setter.add_argument("--cloud-tag", metavar="VALUE", help="cost-allocation tag value of this agent")
    add_json_flag(setter)
    setter.set_defaults(handler=_set)
