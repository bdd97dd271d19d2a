"""MusterAgent: agents and their trace names."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from shared.config import get_settings
from shared.dal.binding import bind_model
from shared.dal.factory import cached_repository
from shared.dal.tables import AGENTS
from shared.domain.agents import Agent
from shared.errors import StorageError


class AgentModel(Model):
    SPEC = AGENTS

    class Meta:
        table_name = AGENTS.logical_name

    agent_id = UnicodeAttribute(hash_key=True, attr_name="agentId")
    name = UnicodeAttribute()
    trace_names = ListAttribute(of=UnicodeAttribute, attr_name="traceNames", default=list)
    cloud_connection_id = UnicodeAttribute(null=True, attr_name="cloudConnectionId")
    cloud_service = UnicodeAttribute(null=True, attr_name="cloudService")
    cloud_tag = UnicodeAttribute(null=True, attr_name="cloudTag")
    auto_registered = BooleanAttribute(default=False, attr_name="autoRegistered")


def _to_domain(item: AgentModel) -> Agent:
    return Agent(
        agent_id=item.agent_id,
        name=item.name,
        trace_names=tuple(str(name) for name in item.trace_names or ()),
        cloud_connection_id=item.cloud_connection_id,
        cloud_service=item.cloud_service,
        cloud_tag=item.cloud_tag,
        auto_registered=bool(item.auto_registered),
    )


def _to_item(agent: Agent) -> AgentModel:
    return AgentModel(
        agent.agent_id,
        name=agent.name,
        trace_names=list(agent.trace_names),
        cloud_connection_id=agent.cloud_connection_id,
        cloud_service=agent.cloud_service,
        cloud_tag=agent.cloud_tag,
        auto_registered=agent.auto_registered,
    )


class AgentRepository:
    def list_agents(self) -> list[Agent]:
        try:
            return sorted((_to_domain(item) for item in AgentModel.scan()), key=lambda a: a.agent_id)
        except PynamoDBException as exc:
            raise StorageError(f"could not list agents: {exc}") from exc

    def get_agent(self, agent_id: str) -> Agent | None:
        try:
            return _to_domain(AgentModel.get(agent_id))
        except AgentModel.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise StorageError(f"could not read agent {agent_id!r}: {exc}") from exc

    def names_of(self, agent_ids: Iterable[str]) -> dict[str, str]:
        """Names of the given agents that exist (BatchGetItem, 100 keys a request): reads only these items."""
        keys = sorted(set(agent_ids))
        if not keys:
            return {}
        try:
            items = AgentModel.batch_get(keys, attributes_to_get=["agentId", "name"])
            return {item.agent_id: item.name for item in items}
        except PynamoDBException as exc:
            raise StorageError(f"could not read agent names: {exc}") from exc

    def save_agents(self, agents: Iterable[Agent]) -> None:
        try:
            with AgentModel.batch_write() as batch:
                for agent in agents:
                    batch.save(_to_item(agent))
        except PynamoDBException as exc:
            raise StorageError(f"could not save agents: {exc}") from exc

    def register_trace_names(self, trace_names: Iterable[str]) -> list[Agent]:
        """Create an auto-registered agent for each trace name, unless an agent with that id already exists."""
        created = []
        for trace_name in trace_names:
            item = AgentModel(trace_name, name=trace_name, trace_names=[trace_name], auto_registered=True)
            try:
                item.save(condition=AgentModel.agent_id.does_not_exist())
            except PynamoDBException as exc:
                if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                    continue  # someone (a concurrent run, or the user) created it first
                raise StorageError(f"could not register agent {trace_name!r}: {exc}") from exc
            created.append(_to_domain(item))
        return created


@cached_repository
def agent_repository() -> AgentRepository:
    bind_model(AgentModel, get_settings())
    return AgentRepository()
