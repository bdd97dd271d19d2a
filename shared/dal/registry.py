"""Every PynamoDB model, so tables can be bound and (locally) created in one call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.config import Settings
from shared.dal.binding import bind_model


def all_models() -> tuple[Any, ...]:
    # Imported here so importing the registry stays cheap and free of cycles.
    from shared.dal.agents import AgentModel
    from shared.dal.cloud import CloudConnectionModel, CloudCostDailyModel
    from shared.dal.exchange_rates import ExchangeRateModel
    from shared.dal.llm_costs import DailyCostModel, HourlyCostModel
    from shared.dal.pricing import ModelPriceModel
    from shared.dal.report_log import ReportLogModel
    from shared.dal.rollup import CostRollupModel
    from shared.dal.settings import SettingsModel

    return (
        AgentModel,
        ModelPriceModel,
        HourlyCostModel,
        DailyCostModel,
        CostRollupModel,
        CloudConnectionModel,
        CloudCostDailyModel,
        ExchangeRateModel,
        SettingsModel,
        ReportLogModel,
    )


def bind_all(settings: Settings) -> None:
    for model in all_models():
        bind_model(model, settings)


def create_all_tables(settings: Settings, models: Iterable[Any] | None = None) -> None:
    """Create any missing table (local mode and tests; in AWS the CDK stack owns the tables).

    ``models`` limits creation to some tables (tests keep moto's tables few and small); all are bound anyway.
    """
    bind_all(settings)
    for model in all_models() if models is None else models:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
