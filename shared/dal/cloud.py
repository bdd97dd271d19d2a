"""MusterCloudConnection (customer roles) and MusterAgentCloudCostDaily (cloud cost per agent, day and service)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from shared.config import get_settings
from shared.dal.attributes import DecimalAttribute
from shared.dal.binding import bind_model
from shared.dal.factory import cached_repository
from shared.dal.tables import CLOUD_CONNECTIONS, CLOUD_COST_DAILY
from shared.domain.cloud import (
    CloudConnection,
    CloudCostRow,
    ConnectionStatus,
    DayWindow,
    RowChanges,
    date_service,
    diff_rows,
)
from shared.domain.money import ZERO, exact_sum
from shared.errors import ConflictError, StorageError

MAX_ERROR_LENGTH = 1000


class CloudConnectionModel(Model):
    SPEC = CLOUD_CONNECTIONS

    class Meta:
        table_name = CLOUD_CONNECTIONS.logical_name

    connection_id = UnicodeAttribute(hash_key=True, attr_name="connectionId")
    name = UnicodeAttribute()
    role_arn = UnicodeAttribute(attr_name="roleArn")
    external_id = UnicodeAttribute(attr_name="externalId")
    tag_key = UnicodeAttribute(null=True, attr_name="tagKey")
    status = UnicodeAttribute(default=ConnectionStatus.PENDING.value)
    created_at = UTCDateTimeAttribute(null=True, attr_name="createdAt")
    last_success_at = UTCDateTimeAttribute(null=True, attr_name="lastSuccessAt")
    last_error = UnicodeAttribute(null=True, attr_name="lastError")
    last_error_at = UTCDateTimeAttribute(null=True, attr_name="lastErrorAt")


class CloudCostDailyModel(Model):
    SPEC = CLOUD_COST_DAILY

    class Meta:
        table_name = CLOUD_COST_DAILY.logical_name

    agent_id = UnicodeAttribute(hash_key=True, attr_name="agentId")
    date_service = UnicodeAttribute(range_key=True, attr_name="dateService")  # "YYYY-MM-DD#ServiceId"
    date = UnicodeAttribute()
    service = UnicodeAttribute()
    connection_id = UnicodeAttribute(attr_name="connectionId")
    unblended_cost = DecimalAttribute(attr_name="unblendedCost")
    net_unblended_cost = DecimalAttribute(null=True, attr_name="netUnblendedCost")
    credits = DecimalAttribute()
    estimated = BooleanAttribute(default=False)
    ce_services = ListAttribute(of=UnicodeAttribute, attr_name="ceServices", default=list)
    fetched_at = UTCDateTimeAttribute(attr_name="fetchedAt")


def _connection_to_domain(item: CloudConnectionModel) -> CloudConnection:
    return CloudConnection(
        connection_id=item.connection_id,
        name=item.name,
        role_arn=item.role_arn,
        external_id=item.external_id,
        tag_key=item.tag_key,
        status=ConnectionStatus(item.status),
        created_at=item.created_at,
        last_success_at=item.last_success_at,
        last_error=item.last_error,
        last_error_at=item.last_error_at,
    )


def _connection_to_item(connection: CloudConnection) -> CloudConnectionModel:
    return CloudConnectionModel(
        connection.connection_id,
        name=connection.name,
        role_arn=connection.role_arn,
        external_id=connection.external_id,
        tag_key=connection.tag_key,
        status=connection.status.value,
        created_at=connection.created_at,
        last_success_at=connection.last_success_at,
        last_error=connection.last_error,
        last_error_at=connection.last_error_at,
    )


def _row_to_domain(item: CloudCostDailyModel) -> CloudCostRow:
    return CloudCostRow(
        agent_id=item.agent_id,
        day=date.fromisoformat(item.date),
        service=item.service,
        connection_id=item.connection_id,
        unblended_cost=item.unblended_cost,
        net_unblended_cost=item.net_unblended_cost,
        credits=item.credits,
        estimated=bool(item.estimated),
        ce_services=tuple(str(name) for name in item.ce_services or ()),
    )


def _row_to_item(row: CloudCostRow, fetched_at: datetime) -> CloudCostDailyModel:
    return CloudCostDailyModel(
        row.agent_id,
        date_service(row.day, row.service),
        date=row.day.isoformat(),
        service=row.service,
        connection_id=row.connection_id,
        unblended_cost=row.unblended_cost,
        net_unblended_cost=row.net_unblended_cost,
        credits=row.credits,
        estimated=row.estimated,
        ce_services=list(row.ce_services),
        fetched_at=fetched_at,
    )


class CloudConnectionRepository:
    def list_connections(self) -> list[CloudConnection]:
        try:
            items = CloudConnectionModel.scan()
            return sorted((_connection_to_domain(item) for item in items), key=lambda c: c.connection_id)
        except PynamoDBException as exc:
            raise StorageError(f"could not list cloud connections: {exc}") from exc

    def get_connection(self, connection_id: str) -> CloudConnection | None:
        try:
            return _connection_to_domain(CloudConnectionModel.get(connection_id))
        except CloudConnectionModel.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise StorageError(f"could not read cloud connection {connection_id!r}: {exc}") from exc

    def add_connection(self, connection: CloudConnection) -> None:
        """Store a new connection; an existing id is a conflict, never overwritten."""
        try:
            _connection_to_item(connection).save(condition=CloudConnectionModel.connection_id.does_not_exist())
        except PynamoDBException as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                raise ConflictError(f"cloud connection {connection.connection_id!r} already exists") from exc
            raise StorageError(f"could not save cloud connection {connection.connection_id!r}: {exc}") from exc

    def record_success(self, connection_id: str, at: datetime) -> None:
        self._update(
            connection_id,
            [
                CloudConnectionModel.status.set(ConnectionStatus.OK.value),
                CloudConnectionModel.last_success_at.set(at),
            ],
        )

    def record_failure(self, connection_id: str, error: str, at: datetime) -> None:
        self._update(
            connection_id,
            [
                CloudConnectionModel.status.set(ConnectionStatus.FAILED.value),
                CloudConnectionModel.last_error.set(error[:MAX_ERROR_LENGTH]),
                CloudConnectionModel.last_error_at.set(at),
            ],
        )

    def _update(self, connection_id: str, actions: list[Action]) -> None:
        item = CloudConnectionModel(connection_id)
        try:
            item.update(actions=actions, condition=CloudConnectionModel.connection_id.exists())
        except PynamoDBException as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return  # removed while the run went on: nothing to record
            raise StorageError(f"could not update cloud connection {connection_id!r}: {exc}") from exc


class CloudCostRepository:
    def cloud_costs_for_agent(self, agent_id: str, from_day: date, to_day: date) -> list[CloudCostRow]:
        """Rows of one agent id, days ``from_day``..``to_day`` inclusive, by day then service (one Query)."""
        condition = CloudCostDailyModel.date_service.between(f"{from_day.isoformat()}#", f"{to_day.isoformat()}#~")
        try:
            return [_row_to_domain(item) for item in CloudCostDailyModel.query(agent_id, condition)]
        except PynamoDBException as exc:
            raise StorageError(f"could not read cloud costs of {agent_id!r}: {exc}") from exc

    def cloud_cost_by_day(self, agent_id: str, from_day: date, to_day: date) -> dict[date, Decimal]:
        """One agent's cloud cost (UnblendedCost, all services) per day; days without rows are absent."""
        by_day: dict[date, list[Decimal]] = defaultdict(list)
        for row in self.cloud_costs_for_agent(agent_id, from_day, to_day):
            by_day[row.day].append(row.unblended_cost)
        return {day: exact_sum(amounts) for day, amounts in sorted(by_day.items())}

    def cloud_totals_by_day(self, agent_ids: Iterable[str], from_day: date, to_day: date) -> dict[date, Decimal]:
        """The summed cloud cost of ``agent_ids`` (include the ``unallocated:<id>`` ones for totals) per day."""
        totals: dict[date, Decimal] = defaultdict(lambda: ZERO)
        for agent_id in agent_ids:
            for day, amount in self.cloud_cost_by_day(agent_id, from_day, to_day).items():
                totals[day] = exact_sum((totals[day], amount))
        return dict(sorted(totals.items()))

    def replace_rows(
        self, agent_ids: Sequence[str], window: DayWindow, rows: Sequence[CloudCostRow], fetched_at: datetime
    ) -> RowChanges:
        """Make the stored rows of ``agent_ids`` in ``window`` equal ``rows``: overwrite, delete, skip the same."""
        stored: list[CloudCostRow] = []
        for agent_id in agent_ids:
            stored.extend(self.cloud_costs_for_agent(agent_id, window.start, window.end))
        changes = diff_rows(stored, rows)
        try:
            with CloudCostDailyModel.batch_write() as batch:
                for row in changes.put:
                    batch.save(_row_to_item(row, fetched_at))
                for agent_id, sort_key in changes.delete:
                    batch.delete(CloudCostDailyModel(agent_id, sort_key))
        except PynamoDBException as exc:
            raise StorageError(f"could not write cloud costs: {exc}") from exc
        return changes


@cached_repository
def cloud_connection_repository() -> CloudConnectionRepository:
    bind_model(CloudConnectionModel, get_settings())
    return CloudConnectionRepository()


@cached_repository
def cloud_cost_repository() -> CloudCostRepository:
    bind_model(CloudCostDailyModel, get_settings())
    return CloudCostRepository()
