"""Agents: identified by Langfuse trace names; one agent may own several."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.errors import ConflictError, InvalidInputError

UNATTRIBUTED = "unattributed"  # generations without a trace name land here, visibly


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    trace_names: tuple[str, ...]
    cloud_connection_id: str | None = None
    cloud_service: str | None = None
    cloud_tag: str | None = None
    auto_registered: bool = False


def validate_agent_id(agent_id: str) -> str:
    agent_id = agent_id.strip()
    if not agent_id or len(agent_id) > 200:
        raise InvalidInputError("an agent id must be 1 to 200 characters")
    return agent_id


def trace_name_owners(agents: Iterable[Agent]) -> dict[str, str]:
    """trace name -> agent id."""
    owners: dict[str, str] = {}
    for agent in agents:
        for trace_name in agent.trace_names:
            owners[trace_name] = agent.agent_id
    return owners


def agent_for_trace(owners: Mapping[str, str], trace_name: str | None) -> str:
    """The agent a trace name books to: its owner, else the trace name itself (auto-registered)."""
    if not trace_name:
        return UNATTRIBUTED
    return owners.get(trace_name, trace_name)


def claim_trace_names(agent_id: str, wanted: Iterable[str], agents: Iterable[Agent]) -> list[Agent]:
    """Check that ``agent_id`` may own ``wanted``; return auto-registered agents that give names up.

    A trace name owned by an agent someone configured is never taken silently: that is a conflict.
    """
    released: list[Agent] = []
    for other in agents:
        if other.agent_id == agent_id:
            continue
        taken = [name for name in wanted if name in other.trace_names]
        if not taken:
            continue
        if not other.auto_registered:
            raise ConflictError(
                f"trace name(s) {', '.join(taken)} already belong to agent {other.agent_id!r}; remove them there first"
            )
        remaining = tuple(name for name in other.trace_names if name not in taken)
        released.append(
            Agent(
                other.agent_id,
                other.name,
                remaining,
                other.cloud_connection_id,
                other.cloud_service,
                other.cloud_tag,
                other.auto_registered,
            )
        )
    return released
