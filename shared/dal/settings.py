"""MusterSettings: one item per project (``settingsId = "project"``) holding the project settings."""

from __future__ import annotations

from datetime import date

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from shared.config import get_settings
from shared.dal.attributes import DecimalAttribute
from shared.dal.binding import bind_model
from shared.dal.factory import cached_repository
from shared.dal.tables import SETTINGS
from shared.domain.fx import USD
from shared.domain.settings import ProjectSettings
from shared.errors import StorageError

PROJECT_SETTINGS_ID = "project"


class SettingsModel(Model):
    SPEC = SETTINGS

    class Meta:
        table_name = SETTINGS.logical_name

    settings_id = UnicodeAttribute(hash_key=True, attr_name="settingsId")
    default_currency = UnicodeAttribute(attr_name="defaultCurrency", default=USD)
    period_start = UnicodeAttribute(null=True, attr_name="periodStart")  # YYYY-MM-DD
    period_end = UnicodeAttribute(null=True, attr_name="periodEnd")
    allowance_usd = DecimalAttribute(null=True, attr_name="allowanceUsd")
    report_recipients = ListAttribute(of=UnicodeAttribute, attr_name="reportRecipients", default=list)
    report_sender = UnicodeAttribute(null=True, attr_name="reportSender")
    updated_at = UTCDateTimeAttribute(null=True, attr_name="updatedAt")


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _to_domain(item: SettingsModel) -> ProjectSettings:
    return ProjectSettings(
        default_currency=item.default_currency or USD,
        period_start=_day(item.period_start),
        period_end=_day(item.period_end),
        allowance_usd=item.allowance_usd,
        report_recipients=tuple(str(r) for r in item.report_recipients or ()),
        report_sender=item.report_sender,
        updated_at=item.updated_at,
    )


def _to_item(settings: ProjectSettings) -> SettingsModel:
    return SettingsModel(
        PROJECT_SETTINGS_ID,
        default_currency=settings.default_currency,
        period_start=settings.period_start.isoformat() if settings.period_start else None,
        period_end=settings.period_end.isoformat() if settings.period_end else None,
        allowance_usd=settings.allowance_usd,
        report_recipients=list(settings.report_recipients),
        report_sender=settings.report_sender,
        updated_at=settings.updated_at,
    )


class SettingsRepository:
    def __init__(self, default_currency: str = USD) -> None:
        self.default_currency = default_currency  # the deployment's default (MUSTER_DEFAULT_CURRENCY)

    def project_settings(self) -> ProjectSettings:
        """The stored settings, or the defaults (the deployment's currency, no period, no allowance)."""
        try:
            return _to_domain(SettingsModel.get(PROJECT_SETTINGS_ID))
        except SettingsModel.DoesNotExist:
            return ProjectSettings(default_currency=self.default_currency)
        except PynamoDBException as exc:
            raise StorageError(f"could not read the project settings: {exc}") from exc

    def save_project_settings(self, settings: ProjectSettings) -> None:
        """Overwrite the one settings item (the CLI is the only writer; last write wins)."""
        try:
            _to_item(settings).save()
        except PynamoDBException as exc:
            raise StorageError(f"could not save the project settings: {exc}") from exc


@cached_repository
def settings_repository() -> SettingsRepository:
    settings = get_settings()
    bind_model(SettingsModel, settings)
    return SettingsRepository(settings.default_currency)
