"""Cost queries: the organization summary, the per-agent breakdown, one agent, and the period's usage.

The read path does not grow with agents × days:

- ``summary``: one Query on MusterCostRollup (one item per day of the window, every agent inside), one
  BatchGetItem for the names of the top agents (at most ``TOP_AGENTS``), the settings item when no currency is
  given, and the exchange-rate Query of the display currency (none for USD).
- ``agents_breakdown``: the same rollup Query, plus the names of the agents listed (BatchGetItem, 100 a request).
- ``agent_detail``: GetItem of the agent, one Query on its daily LLM rows, one Query on its cloud rows.
- ``period_usage``: the settings item and one rollup Query over the period.

The services return domain views (``shared.domain.costs``); the API and the weekly report map them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from shared.config import get_settings
from shared.dal.agents import AgentRepository, agent_repository
from shared.dal.cloud import CloudCostRepository, cloud_cost_repository
from shared.dal.llm_costs import LlmCostRepository, llm_cost_repository
from shared.dal.rollup import DayRollup, RollupRepository, rollup_repository
from shared.dal.settings import SettingsRepository, settings_repository
from shared.domain.agents import UNATTRIBUTED
from shared.domain.cloud import is_unallocated
from shared.domain.costs import (
    TOP_AGENTS,
    AgentDetailView,
    AgentsView,
    Converter,
    FxMode,
    PeriodView,
    SummaryView,
    Window,
    agent_detail_view,
    agents_view,
    display_name,
    make_converter,
    month_to_date,
    period_view,
    query_window,
    summary_view,
    window_figures,
)
from shared.domain.fx import USD, RateTable, parse_currency
from shared.errors import InvalidInputError, NotFoundError
from shared.services.exchange_rates import rate_table

MAX_AGENT_ID_LENGTH = 200

RateReader = Callable[[Iterable[str], date, date], RateTable]


def utc_today() -> date:
    return datetime.now(UTC).date()


def _read_rates(currencies: Iterable[str], from_day: date, to_day: date) -> RateTable:
    return rate_table(currencies, from_day, to_day)


def _is_reserved(agent_id: str) -> bool:
    return agent_id == UNATTRIBUTED or is_unallocated(agent_id)


class CostQueryService:
    """Answers cost questions from the stored rollups and rows; every collaborator can be injected."""

    def __init__(
        self,
        rollups: RollupRepository | None = None,
        llm_costs: LlmCostRepository | None = None,
        cloud_costs: CloudCostRepository | None = None,
        agents: AgentRepository | None = None,
        settings: SettingsRepository | None = None,
        rates: RateReader = _read_rates,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.rollups = rollups or rollup_repository()
        self.llm_costs = llm_costs or llm_cost_repository()
        self.cloud_costs = cloud_costs or cloud_cost_repository()
        self.agents = agents or agent_repository()
        self.settings = settings or settings_repository()
        self.rates = rates
        self.today = today if today is not None else utc_today  # looked up per service: tests can freeze it

    # --- inputs ---------------------------------------------------------------------------------------------

    def window(self, days: int | None = None, first: str | None = None, last: str | None = None) -> Window:
        """``days`` ending today (UTC; default 30) or ``first``..``last`` inclusive (InvalidInputError if bad)."""
        return query_window(self.today(), days, first, last)

    def _currency(self, currency: str | None) -> str:
        if currency is None:
            return self.settings.project_settings().default_currency
        return parse_currency(currency)

    def _converter(self, currency: str, mode: FxMode, window: Window) -> Converter:
        today = self.today()
        staleness_days = get_settings().fx.staleness_days
        if currency == USD:
            table = RateTable((), as_of=today, staleness_days=staleness_days)
        elif mode is FxMode.LATEST:
            table = self.rates([currency], today, today)
        else:
            table = self.rates([currency], window.start, window.end)
        return make_converter(table, currency, mode, window.dates(), today, staleness_days)

    def _days(self, window: Window) -> list[DayRollup]:
        return self.rollups.days(window.start.isoformat(), window.end.isoformat())

    def _names(self, agent_ids: Iterable[str]) -> dict[str, str]:
        return self.agents.names_of(a for a in agent_ids if not _is_reserved(a))

    # --- queries --------------------------------------------------------------------------------------------

    def summary(self, window: Window, currency: str | None = None, fx_mode: FxMode = FxMode.LATEST) -> SummaryView:
        """Organization totals, the zero-filled daily series, the top agents by total cost, unpriced usage."""
        currency = self._currency(currency)
        converter = self._converter(currency, fx_mode, window)
        figures = window_figures(self._days(window), window, converter)
        names = self._names(a.agent_id for a in figures.agents[:TOP_AGENTS])
        return summary_view(figures, window, converter, names)

    def agents_breakdown(
        self, window: Window, currency: str | None = None, fx_mode: FxMode = FxMode.LATEST
    ) -> AgentsView:
        """Every agent with figures in the window (LLM, cloud, combined, tokens, zero-filled trend), by total."""
        currency = self._currency(currency)
        converter = self._converter(currency, fx_mode, window)
        figures = window_figures(self._days(window), window, converter, with_trend=True)
        return agents_view(figures, window, converter, self._names(a.agent_id for a in figures.agents))

    def agent_detail(
        self, agent_id: str, window: Window, currency: str | None = None, fx_mode: FxMode = FxMode.LATEST
    ) -> AgentDetailView:
        """One agent from its own rows. Known: a configured agent, or any id with rows in the window (the
        reserved ``unattributed`` and ``unallocated:<connectionId>`` included); otherwise NotFoundError."""
        if not agent_id or len(agent_id) > MAX_AGENT_ID_LENGTH:
            raise InvalidInputError(f"an agent id is 1 to {MAX_AGENT_ID_LENGTH} characters")
        currency = self._currency(currency)
        agent = self.agents.get_agent(agent_id)
        llm_days = self.llm_costs.daily_for_agent(agent_id, window.start.isoformat(), window.end.isoformat())
        cloud_rows = self.cloud_costs.cloud_costs_for_agent(agent_id, window.start, window.end)
        if agent is None and not llm_days and not cloud_rows:
            raise NotFoundError(f"unknown agent {agent_id!r} (no agent with this id, and no costs in the window)")
        converter = self._converter(currency, fx_mode, window)
        name = agent.name if agent is not None else display_name(agent_id)
        return agent_detail_view(agent_id, name, llm_days, cloud_rows, window, converter)

    def period_usage(self, currency: str | None = None, fx_mode: FxMode = FxMode.LATEST) -> PeriodView:
        """Total cost of the configured trial or billing period (month to date when none is set), and the share
        of the allowance used when one is set."""
        settings = self.settings.project_settings()
        currency = settings.default_currency if currency is None else parse_currency(currency)
        configured = settings.period
        period = Window(*configured) if configured is not None else month_to_date(self.today())
        converter = self._converter(currency, fx_mode, period)
        return period_view(self._days(period), period, configured is not None, converter, settings.allowance_usd)
