"""MusterReportLog: one item per (week, recipient) — who got which weekly report, and who is being sent it now.

A run *claims* a (week, recipient) with one conditional UpdateItem before it calls SES, so two runs (a retry and
the original, or two schedules) can never both send: the condition lets a claim through only when there is no
item yet, when the last attempt failed (and attempts are left), or when an earlier claim is older than the lease
(its run is dead: see ``DeliveryPolicy`` and docs/decisions.md). Marking sent or failed is conditional on the
claim token, so a run that lost its claim never overwrites the run that took it over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from shared.config import get_settings
from shared.dal.binding import bind_model
from shared.dal.factory import cached_repository
from shared.dal.tables import REPORT_LOG
from shared.domain.weekly_report import DeliveryPolicy, DeliveryStatus, ReportDelivery
from shared.errors import StorageError

MAX_ERROR_LENGTH = 1000
CONDITION_FAILED = "ConditionalCheckFailedException"


class ReportLogModel(Model):
    SPEC = REPORT_LOG

    class Meta:
        table_name = REPORT_LOG.logical_name

    week = UnicodeAttribute(hash_key=True)  # "2026-W49"
    recipient = UnicodeAttribute(range_key=True)  # the normalised address
    address = UnicodeAttribute(null=True)  # as configured
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    claim_token = UnicodeAttribute(null=True, attr_name="claimToken")
    claimed_at = UTCDateTimeAttribute(null=True, attr_name="claimedAt")
    message_id = UnicodeAttribute(null=True, attr_name="messageId")
    sent_at = UTCDateTimeAttribute(null=True, attr_name="sentAt")
    last_error = UnicodeAttribute(null=True, attr_name="lastError")
    last_error_at = UTCDateTimeAttribute(null=True, attr_name="lastErrorAt")
    subject = UnicodeAttribute(null=True)


def _to_domain(item: ReportLogModel) -> ReportDelivery:
    return ReportDelivery(
        week=item.week,
        recipient=item.recipient,
        status=DeliveryStatus(item.status),
        attempts=int(item.attempts or 0),
        address=item.address,
        claimed_at=item.claimed_at,
        message_id=item.message_id,
        sent_at=item.sent_at,
        last_error=item.last_error,
        last_error_at=item.last_error_at,
    )


def _condition_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", None) == CONDITION_FAILED


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim: ``claimed`` with the row as written, or not, with the row that stopped it."""

    claimed: bool
    delivery: ReportDelivery | None


class ReportLogRepository:
    def claim(
        self,
        week: str,
        recipient: str,
        *,
        address: str,
        token: str,
        now: datetime,
        policy: DeliveryPolicy,
        subject: str | None = None,
    ) -> Claim:
        """Take (week, recipient) for this run, atomically; attempts count up by one per claim."""
        model = ReportLogModel
        claimable: Condition = (
            model.week.does_not_exist()
            | ((model.status == DeliveryStatus.FAILED.value) & (model.attempts < policy.max_attempts))
            | ((model.status == DeliveryStatus.SENDING.value) & (model.claimed_at < policy.claim_cutoff(now)))
        )
        actions: list[Action] = [
            model.status.set(DeliveryStatus.SENDING.value),
            model.claim_token.set(token),
            model.claimed_at.set(now),
            model.address.set(address),
            model.attempts.add(1),
        ]
        if subject is not None:
            actions.append(model.subject.set(subject))
        item = ReportLogModel(week, recipient)
        try:
            item.update(actions=actions, condition=claimable)
        except PynamoDBException as exc:
            if _condition_failed(exc):
                return Claim(False, self.get(week, recipient))
            raise StorageError(f"could not claim the {week} report for {recipient!r}: {exc}") from exc
        return Claim(True, _to_domain(item))

    def mark_sent(self, week: str, recipient: str, *, token: str, message_id: str, now: datetime) -> bool:
        """Record SES's message id; False when the claim was taken over meanwhile (nothing is written then)."""
        return self._finish(
            week,
            recipient,
            token,
            [
                ReportLogModel.status.set(DeliveryStatus.SENT.value),
                ReportLogModel.message_id.set(message_id),
                ReportLogModel.sent_at.set(now),
            ],
        )

    def mark_failed(self, week: str, recipient: str, *, token: str, error: str, now: datetime) -> bool:
        return self._finish(
            week,
            recipient,
            token,
            [
                ReportLogModel.status.set(DeliveryStatus.FAILED.value),
                ReportLogModel.last_error.set(error[:MAX_ERROR_LENGTH]),
                ReportLogModel.last_error_at.set(now),
            ],
        )

    def _finish(self, week: str, recipient: str, token: str, actions: list[Action]) -> bool:
        item = ReportLogModel(week, recipient)
        try:
            item.update(actions=actions, condition=ReportLogModel.claim_token == token)
        except PynamoDBException as exc:
            if _condition_failed(exc):
                return False
            raise StorageError(f"could not record the {week} report for {recipient!r}: {exc}") from exc
        return True

    def get(self, week: str, recipient: str) -> ReportDelivery | None:
        try:
            return _to_domain(ReportLogModel.get(week, recipient, consistent_read=True))
        except ReportLogModel.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise StorageError(f"could not read the {week} report log for {recipient!r}: {exc}") from exc

    def deliveries(self, week: str) -> list[ReportDelivery]:
        """Every recipient's row for a week, by recipient (one Query)."""
        try:
            return [_to_domain(item) for item in ReportLogModel.query(week, consistent_read=True)]
        except PynamoDBException as exc:
            raise StorageError(f"could not read the {week} report log: {exc}") from exc


@cached_repository
def report_log_repository() -> ReportLogRepository:
    bind_model(ReportLogModel, get_settings())
    return ReportLogRepository()
