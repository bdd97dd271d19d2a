"""Agent administration: list agents, create one or update only the fields given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from shared.dal.agents import AgentRepository, agent_repository
from shared.dal.cloud import CloudConnectionRepository, cloud_connection_repository
from shared.domain.agents import Agent, claim_trace_names, validate_agent_id
from shared.domain.cloud import check_cloud_links
from shared.errors import InvalidInputError


class AgentService:
    def __init__(
        self, repository: AgentRepository | None = None, connections: CloudConnectionRepository | None = None
    ) -> None:
        self.repository = repository or agent_repository()
        self.connections = connections or cloud_connection_repository()

    def list_agents(self) -> list[Agent]:
        return self.repository.list_agents()

    def set_agent(
        self,
        agent_id: str,
        name: str | None = None,
        trace_names: Sequence[str] | None = None,
        cloud_connection_id: str | None = None,
        cloud_service: str | None = None,
        cloud_tag: str | None = None,
    ) -> Agent:
        """Create the agent (trace names default to its id) or update only the given fields."""
        agent_id = validate_agent_id(agent_id)
        if trace_names is not None:
            trace_names = tuple(dict.fromkeys(name.strip() for name in trace_names if name.strip()))
            if not trace_names:
                raise InvalidInputError("give at least one non-empty trace name")
        agents = self.repository.list_agents()
        existing = next((a for a in agents if a.agent_id == agent_id), None)
        agent = existing or Agent(agent_id=agent_id, name=agent_id, trace_names=(agent_id,))
        agent = replace(
            agent,
            name=name if name is not None else agent.name,
            trace_names=tuple(trace_names) if trace_names is not None else agent.trace_names,
            cloud_connection_id=cloud_connection_id if cloud_connection_id is not None else agent.cloud_connection_id,
            cloud_service=cloud_service if cloud_service is not None else agent.cloud_service,
            cloud_tag=cloud_tag if cloud_tag is not None else agent.cloud_tag,
            auto_registered=False,
        )
        if (agent.cloud_connection_id is None) != (agent.cloud_service is None):
            raise InvalidInputError("a cloud link needs both --cloud-connection and --cloud-service")
        if agent.cloud_tag is not None and agent.cloud_connection_id is None:
            raise InvalidInputError("--cloud-tag needs --cloud-connection and --cloud-service")
        released = claim_trace_names(agent_id, agent.trace_names, agents)
        others = [a for a in agents if a.agent_id != agent_id]
        self.check_cloud_links([agent, *others])
        self.repository.save_agents([agent, *released])
        return agent

    def check_cloud_links(self, agents: Sequence[Agent]) -> None:
        """No dollar may be attributed to two agents (checked against the configured cloud connections)."""
        check_cloud_links(agents, self.connections.list_connections())
