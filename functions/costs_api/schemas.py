"""The API's JSON: response models (they generate docs/openapi.json) and the mapping from the domain views.

Amounts are strings holding exact decimals in the requested currency; token counts are integers; dates are
``YYYY-MM-DD`` UTC days. The mapping is the only place domain views become JSON.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.costs import (
    AgentDetailView,
    AgentLine,
    AgentsView,
    DayLine,
    FxBasis,
    FxMode,
    PeriodView,
    SummaryView,
    UnpricedLine,
    Window,
    amount_text,
)
from shared.domain.fx import format_rate

AMOUNT_PATTERN = r"^-?\d+(\.\d+)?$"
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

Amount = Annotated[
    str,
    Field(
        pattern=AMOUNT_PATTERN,
        description="Exact decimal in the requested currency, as a string (never rounded: see the fx block)",
        examples=["12.3456789"],
    ),
]
Day = Annotated[str, Field(pattern=DAY_PATTERN, description="UTC day, YYYY-MM-DD", examples=["2026-03-18"])]
Tokens = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ErrorDetail(_Model):
    code: str = Field(
        description="Stable machine-readable code: invalid_parameter, unknown_parameter, unsupported_currency, "
        "not_found, rate_unavailable, internal_error"
    )
    message: str = Field(description="What was wrong, for people")


class ErrorResponse(_Model):
    error: ErrorDetail


class FxLatest(_Model):
    """``fx=latest`` (default): every figure converted at one rate, the latest stored."""

    mode: Literal["latest"]
    rate: str = Field(
        description="Units of the currency per 1 USD, 7 significant digits (USD: 1)", examples=["0.8695652"]
    )
    exactRate: str = Field(description="The stored rate every figure was multiplied by", examples=["0.869565217391"])
    rateDate: Day = Field(description="The source's business date of the rate")
    source: str = Field(description="ECB, BNM (MYR), BI (IDR), or USD for USD", examples=["ECB"])
    stale: bool = Field(description="The rate is older than the staleness window (MUSTER_FX_STALENESS_DAYS)")
    fallback: bool = Field(description="The currency's preferred source had no rate; ECB's cross rate was used")


class FxDaily(_Model):
    """``fx=daily``: each day's figures converted at the rate of that day (the newest business date on or
    before it); ``rateDateFrom``..``rateDateTo`` is the range of rate dates used."""

    mode: Literal["daily"]
    rateDateFrom: Day
    rateDateTo: Day
    sources: list[str] = Field(description="Every source whose rate was used", examples=[["ECB"]])
    stale: bool = Field(description="Some day's rate was older than the staleness window before that day")
    fallback: bool = Field(description="Some day used a fallback source")


Fx = Annotated[FxLatest | FxDaily, Field(discriminator="mode")]


class WindowModel(_Model):
    from_: Day = Field(alias="from", description="First day, inclusive")
    to: Day = Field(description="Last day, inclusive")
    days: int = Field(ge=1, le=366)


class CostTotals(_Model):
    llmCost: Amount
    cloudCost: Amount
    totalCost: Amount = Field(description="llmCost + cloudCost, exactly")
    inputTokens: Tokens = Field(description="Prompt-side tokens: input + cached read + cache write")
    outputTokens: Tokens = Field(description="Completion-side tokens: output + reasoning")
    observations: Tokens = Field(description="LLM calls (priced and unpriced)")


class DailyPoint(_Model):
    date: Day
    llmCost: Amount
    cloudCost: Amount
    totalCost: Amount
    inputTokens: Tokens
    outputTokens: Tokens
    observations: Tokens


class TrendPoint(_Model):
    date: Day
    llmCost: Amount
    cloudCost: Amount
    totalCost: Amount


class TopAgent(_Model):
    agentId: str
    name: str = Field(description="The agent's name; reserved ids read 'Unallocated (<connectionId>)' and so on")
    llmCost: Amount
    cloudCost: Amount
    totalCost: Amount


class Unpriced(_Model):
    model: str
    observations: Tokens
    inputTokens: Tokens
    outputTokens: Tokens


class SummaryResponse(_Model):
    currency: str
    fx: Fx
    window: WindowModel
    totals: CostTotals
    daily: list[DailyPoint] = Field(description="One entry per day of the window, zeros included, oldest first")
    topAgents: list[TopAgent] = Field(description="Up to 5 agents by totalCost, descending")
    unpriced: list[Unpriced] = Field(description="Usage of models without a price: never counted as 0 in silence")


class AgentCosts(_Model):
    agentId: str
    name: str
    llmCost: Amount
    cloudCost: Amount
    totalCost: Amount
    inputTokens: Tokens
    outputTokens: Tokens
    observations: Tokens
    trend: list[TrendPoint] = Field(description="One entry per day of the window, zeros included, oldest first")


class AgentsResponse(_Model):
    currency: str
    fx: Fx
    window: WindowModel
    agents: list[AgentCosts] = Field(description="Every agent with costs or usage in the window, by totalCost desc")


class TokenBuckets(_Model):
    input: Tokens
    cachedRead: Tokens
    cacheWrite: Tokens
    output: Tokens
    reasoning: Tokens


class ModelCost(_Model):
    model: str
    cost: Amount
    inputTokens: Tokens
    outputTokens: Tokens
    observations: Tokens
    tokens: TokenBuckets


class ServiceCost(_Model):
    service: str = Field(description="AWS service id, e.g. AmazonBedrock")
    cost: Amount


class AgentDetailResponse(_Model):
    currency: str
    fx: Fx
    window: WindowModel
    agentId: str
    name: str
    llmCost: Amount
    cloudCost: Amount
    totalCost: Amount
    inputTokens: Tokens
    outputTokens: Tokens
    observations: Tokens
    trend: list[TrendPoint] = Field(description="One entry per day of the window, zeros included, oldest first")
    byModel: list[ModelCost] = Field(description="Priced LLM usage per model, by cost desc")
    byService: list[ServiceCost] = Field(description="Cloud cost per AWS service, by cost desc")
    unpriced: list[Unpriced] = Field(description="This agent's usage of models without a price")


class PeriodResponse(_Model):
    """The period's total (no allowance set)."""

    currency: str
    fx: Fx
    periodStart: Day
    periodEnd: Day
    configured: bool = Field(description="False when no period is set and the month to date is shown")
    totalCost: Amount


class PeriodAllowanceResponse(PeriodResponse):
    """The period's total and the allowance used (an allowance is set)."""

    allowance: Amount = Field(
        description="The allowance (set in USD), converted at the rate of the period's last "
        "day (fx=daily) or the latest rate (fx=latest)"
    )
    percentUsed: str = Field(
        pattern=AMOUNT_PATTERN,
        description="totalCost / allowance × 100, computed in USD, 2 decimals half-up",
        examples=["42.17"],
    )


# --- mapping ---------------------------------------------------------------------------------------------------


def _text(value: Decimal) -> str:
    return amount_text(value)


def fx_model(basis: FxBasis) -> FxLatest | FxDaily:
    if basis.mode is FxMode.LATEST:
        assert basis.rate is not None and basis.rate_date is not None
        return FxLatest(
            mode="latest",
            rate=format_rate(basis.rate),
            exactRate=_text(basis.rate),
            rateDate=basis.rate_date.isoformat(),
            source=basis.sources[0],
            stale=basis.stale,
            fallback=basis.fallback,
        )
    assert basis.rate_date_from is not None and basis.rate_date_to is not None
    return FxDaily(
        mode="daily",
        rateDateFrom=basis.rate_date_from.isoformat(),
        rateDateTo=basis.rate_date_to.isoformat(),
        sources=list(basis.sources),
        stale=basis.stale,
        fallback=basis.fallback,
    )


def window_model(window: Window) -> WindowModel:
    fields = {"from": window.start.isoformat(), "to": window.end.isoformat(), "days": window.days}
    return WindowModel.model_validate(fields)


def _trend(line: DayLine) -> TrendPoint:
    # model_construct: the values come from the domain already typed; skips re-validating thousands of points
    return TrendPoint.model_construct(
        date=line.date.isoformat(),
        llmCost=_text(line.llm_cost),
        cloudCost=_text(line.cloud_cost),
        totalCost=_text(line.total_cost),
    )


def _unpriced(line: UnpricedLine) -> Unpriced:
    return Unpriced(
        model=line.model, observations=line.observations, inputTokens=line.input_tokens, outputTokens=line.output_tokens
    )


def _agent_fields(line: AgentLine) -> dict[str, Any]:
    return {
        "agentId": line.agent_id,
        "name": line.name,
        "llmCost": _text(line.llm_cost),
        "cloudCost": _text(line.cloud_cost),
        "totalCost": _text(line.total_cost),
        "inputTokens": line.input_tokens,
        "outputTokens": line.output_tokens,
        "observations": line.observations,
        "trend": [_trend(point) for point in line.trend],
    }


def summary_response(view: SummaryView) -> SummaryResponse:
    totals = view.totals
    return SummaryResponse(
        currency=view.currency,
        fx=fx_model(view.fx),
        window=window_model(view.window),
        totals=CostTotals(
            llmCost=_text(totals.llm_cost),
            cloudCost=_text(totals.cloud_cost),
            totalCost=_text(totals.total_cost),
            inputTokens=totals.input_tokens,
            outputTokens=totals.output_tokens,
            observations=totals.observations,
        ),
        daily=[
            DailyPoint(
                date=d.date.isoformat(),
                llmCost=_text(d.llm_cost),
                cloudCost=_text(d.cloud_cost),
                totalCost=_text(d.total_cost),
                inputTokens=d.input_tokens,
                outputTokens=d.output_tokens,
                observations=d.observations,
            )
            for d in view.daily
        ],
        topAgents=[
            TopAgent(
                agentId=a.agent_id,
                name=a.name,
                llmCost=_text(a.llm_cost),
                cloudCost=_text(a.cloud_cost),
                totalCost=_text(a.total_cost),
            )
            for a in view.top_agents
        ],
        unpriced=[_unpriced(u) for u in view.unpriced],
    )


def agents_response(view: AgentsView) -> AgentsResponse:
    return AgentsResponse.model_construct(
        currency=view.currency,
        fx=fx_model(view.fx),
        window=window_model(view.window),
        agents=[AgentCosts.model_construct(**_agent_fields(line)) for line in view.agents],
    )


def agent_detail_response(view: AgentDetailView) -> AgentDetailResponse:
    return AgentDetailResponse(
        currency=view.currency,
        fx=fx_model(view.fx),
        window=window_model(view.window),
        **_agent_fields(view.agent),
        byModel=[
            ModelCost(
                model=m.model,
                cost=_text(m.cost),
                inputTokens=m.input_tokens,
                outputTokens=m.output_tokens,
                observations=m.observations,
                tokens=TokenBuckets(
                    input=m.tokens.input,
                    cachedRead=m.tokens.cached_read,
                    cacheWrite=m.tokens.cache_write,
                    output=m.tokens.output,
                    reasoning=m.tokens.reasoning,
                ),
            )
            for m in view.by_model
        ],
        byService=[ServiceCost(service=s.service, cost=_text(s.cost)) for s in view.by_service],
        unpriced=[_unpriced(u) for u in view.unpriced],
    )


def period_response(view: PeriodView) -> PeriodResponse | PeriodAllowanceResponse:
    fields = {
        "currency": view.currency,
        "fx": fx_model(view.fx),
        "periodStart": view.period.start.isoformat(),
        "periodEnd": view.period.end.isoformat(),
        "configured": view.configured,
        "totalCost": _text(view.total_cost),
    }
    if view.allowance is None or view.percent_used is None:
        return PeriodResponse.model_validate(fields)
    return PeriodAllowanceResponse.model_validate(
        {**fields, "allowance": _text(view.allowance), "percentUsed": format(view.percent_used, "f")}
    )
