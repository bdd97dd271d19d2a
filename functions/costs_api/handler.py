"""The cost API (API Gateway REST): summary, per-agent breakdown, one agent, period usage.

Thin: Powertools validates the declared query parameters, each route resolves its window and calls one
service function, and the view becomes JSON in ``schemas``. Errors are mapped here, in one place, by class:
bad input is a 400, an unknown agent a 404, a currency with no stored rate a 503, never a 5xx for bad input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.costs_api.schemas import (
    DAY_PATTERN,
    AgentDetailResponse,
    AgentsResponse,
    ErrorResponse,
    PeriodAllowanceResponse,
    PeriodResponse,
    SummaryResponse,
    agent_detail_response,
    agents_response,
    period_response,
    summary_response,
)
from shared.domain.costs import MAX_WINDOW_DAYS, parse_fx_mode
from shared.domain.fx import SUPPORTED_CURRENCIES
from shared.errors import (
    InvalidInputError,
    MusterError,
    NotFoundError,
    RateUnavailableError,
    UnsupportedCurrencyError,
)
from shared.observability import MetricUnit, logger, metrics, tracer
from shared.services.cost_queries import CostQueryService

app = APIGatewayRestResolver(enable_validation=True)


class UnknownParameterError(InvalidInputError):
    """A query parameter the route does not take (a typo must not silently mean the default)."""


# The one error mapping: domain error class -> (HTTP status, code). The most specific class wins.
ERROR_STATUS: tuple[tuple[type[Exception], HTTPStatus, str], ...] = (
    (UnsupportedCurrencyError, HTTPStatus.BAD_REQUEST, "unsupported_currency"),
    (UnknownParameterError, HTTPStatus.BAD_REQUEST, "unknown_parameter"),
    (InvalidInputError, HTTPStatus.BAD_REQUEST, "invalid_parameter"),
    (NotFoundError, HTTPStatus.NOT_FOUND, "not_found"),
    (RateUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE, "rate_unavailable"),
)

# --- parameters (declared once; Powertools validates them and documents them in the OpenAPI document) --------

CURRENCY_DOC = (
    f"Display currency, case-insensitive: {', '.join(SUPPORTED_CURRENCIES)}. "
    "Default: the project's default display currency (USD until set with `muster-costs settings`)."
)
FX_DOC = (
    "latest (default): every figure at the latest stored rate. daily: each day's figures at the rate of that day "
    "(the newest business date on or before it); the fx block then gives the range of rate dates used."
)
Currency = Annotated[str | None, Query(description=CURRENCY_DOC, pattern=r"^[A-Za-z]{3}$")]
Days = Annotated[
    int | None,
    Query(ge=1, le=MAX_WINDOW_DAYS, description="Window of this many days ending today (UTC); default 30"),
]
From = Annotated[
    str | None,
    Query(alias="from", pattern=DAY_PATTERN, description="First day (inclusive, with 'to'; not with 'days')"),
]
To = Annotated[
    str | None,
    Query(pattern=DAY_PATTERN, description="Last day (inclusive, with 'from'); at most 366 days after 'from'"),
]
FxParam = Annotated[Literal["latest", "daily"], Query(description=FX_DOC)]
AgentId = Annotated[
    str,
    Path(description="An agent id, or a reserved id: 'unattributed', 'unallocated:<connectionId>'"),
]

WINDOW_PARAMETERS = frozenset({"currency", "days", "from", "to", "fx"})
PERIOD_PARAMETERS = frozenset({"currency", "fx"})


def _error_response(status: HTTPStatus, code: str, message: str) -> Response[Any]:
    body = {"error": {"code": code, "message": message}}
    payload = json.dumps(body, separators=(",", ":"))
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=payload)


def _error_content(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": ErrorResponse}}}


def _responses(ok: str, *, not_found: bool = False) -> dict[int, OpenAPIResponse]:
    responses: dict[int, OpenAPIResponse] = {
        200: {"description": ok},
        400: _error_content("Malformed, out-of-range or unknown query parameter"),
        503: _error_content("No exchange rate is stored yet for the requested currency"),
    }
    if not_found:
        responses[404] = _error_content("Unknown agent")
    return responses


def _repeated_parameters(resolver: APIGatewayRestResolver) -> list[str]:
    given = resolver.current_event.multi_value_query_string_parameters or {}
    return sorted(name for name, values in given.items() if len(values or ()) > 1)


def only(allowed: frozenset[str]) -> Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]:
    """Route middleware: 400 for a query parameter the route does not take, or one given twice."""

    def middleware(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        given = resolver.current_event.multi_value_query_string_parameters or {}
        unknown = sorted(set(given) - allowed)
        if unknown:
            raise UnknownParameterError(
                f"unknown query parameter(s): {', '.join(unknown)}; this route takes {', '.join(sorted(allowed))}"
            )
        repeated = _repeated_parameters(resolver)
        if repeated:
            raise InvalidInputError(f"query parameter(s) given more than once: {', '.join(repeated)}")
        return next_middleware(resolver)

    return middleware


# --- routes ----------------------------------------------------------------------------------------------------


@app.get(
    "/costs/summary",
    summary="Organization-wide costs over a window",
    description="Totals, a zero-filled daily series, the top agents and unpriced usage. Amounts are exact "
    "decimal strings: totalCost = llmCost + cloudCost, and the daily entries and agents add up to the totals "
    "exactly, in every currency and fx mode.",
    responses=_responses("The summary"),
    middlewares=[only(WINDOW_PARAMETERS)],
    tags=["costs"],
)
def get_summary(
    currency: Currency = None,
    days: Days = None,
    from_: From = None,
    to: To = None,
    fx: FxParam = "latest",
) -> SummaryResponse:
    service = CostQueryService()
    window = service.window(days, from_, to)
    return summary_response(service.summary(window, currency, parse_fx_mode(fx)))


@app.get(
    "/costs/agents",
    summary="Per-agent costs over a window",
    description="Every agent with costs or usage in the window (reserved rows too: 'unattributed' LLM usage "
    "without a trace name, 'unallocated:<connectionId>' cloud spend no agent claims), by totalCost desc.",
    responses=_responses("The per-agent breakdown"),
    middlewares=[only(WINDOW_PARAMETERS)],
    tags=["costs"],
)
def get_agents(
    currency: Currency = None,
    days: Days = None,
    from_: From = None,
    to: To = None,
    fx: FxParam = "latest",
) -> AgentsResponse:
    service = CostQueryService()
    window = service.window(days, from_, to)
    return agents_response(service.agents_breakdown(window, currency, parse_fx_mode(fx)))


@app.get(
    "/costs/agents/<agentId>",
    summary="One agent's costs over a window",
    description="The agent's line as in /costs/agents, plus cost per model, cost per AWS service and unpriced "
    "usage. An id is known when an agent has it, or when it has costs in the window; otherwise 404.",
    responses=_responses("The agent's costs", not_found=True),
    middlewares=[only(WINDOW_PARAMETERS)],
    tags=["costs"],
)
def get_agent(
    agentId: AgentId,
    currency: Currency = None,
    days: Days = None,
    from_: From = None,
    to: To = None,
    fx: FxParam = "latest",
) -> AgentDetailResponse:
    service = CostQueryService()
    window = service.window(days, from_, to)
    view = service.agent_detail(unquote(agentId), window, currency, parse_fx_mode(fx))
    return agent_detail_response(view)


@app.get(
    "/costs/period",
    summary="Usage of the trial or billing period",
    description="Total cost of the configured period (`muster-costs settings --period-start --period-end`), or "
    "of the month to date when none is set; with an allowance set (in USD), the allowance in the requested "
    "currency and the share used.",
    responses=_responses("The period's usage"),
    middlewares=[only(PERIOD_PARAMETERS)],
    tags=["costs"],
)
def get_period(currency: Currency = None, fx: FxParam = "latest") -> PeriodResponse | PeriodAllowanceResponse:
    return period_response(CostQueryService().period_usage(currency, parse_fx_mode(fx)))


# --- errors: mapped once, by class ---------------------------------------------------------------------------


def domain_error(error: MusterError) -> Response[Any]:
    for error_class, status, code in ERROR_STATUS:
        if isinstance(error, error_class):
            logger.info("request refused", status=status.value, code=code, reason=str(error))
            return _error_response(status, code, str(error))
    return internal_error(error)


def invalid_request(error: RequestValidationError) -> Response[Any]:
    problems = error.errors()
    if any(problem.get("loc", ("",))[0] == "response" for problem in problems):
        return internal_error(error)  # our response broke its own schema: a bug, not the caller's fault
    repeated = _repeated_parameters(app)
    if repeated:  # validation sees a list where it wants one value: say what actually happened
        message = f"query parameter(s) given more than once: {', '.join(repeated)}"
        return _error_response(HTTPStatus.BAD_REQUEST, "invalid_parameter", message)
    messages = []
    for problem in problems:
        location = problem.get("loc", ())
        name = location[-1] if location else "request"
        messages.append(f"query parameter {name!r}: {problem.get('msg', 'invalid')}")
    return _error_response(HTTPStatus.BAD_REQUEST, "invalid_parameter", "; ".join(messages))


def route_not_found(error: RouteNotFoundError) -> Response[Any]:
    return _error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route; see docs/openapi.json")


def internal_error(error: Exception) -> Response[Any]:
    logger.exception("request failed", error_type=type(error).__name__)
    return _error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error; the request id is in the logs"
    )


app.exception_handler([InvalidInputError, NotFoundError, RateUnavailableError])(domain_error)
app.exception_handler(RequestValidationError)(invalid_request)
app.not_found(route_not_found)
app.exception_handler(Exception)(internal_error)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    if not is_metrics_disabled():  # (when disabled, Powertools keeps the values and prints every 100th request)
        # 0/1 per request: the sum counts answers that were our fault (they never raise: Lambda Errors misses them)
        server_error = int(response["statusCode"] >= HTTPStatus.INTERNAL_SERVER_ERROR)
        metrics.add_metric(name="CostApiServerErrors", unit=MetricUnit.Count, value=server_error)
    return response
