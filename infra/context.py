"""Deployment settings, read from CDK context: ``cdk.json`` ``"context"`` or ``cdk deploy -c key=value``.

Every key is optional. ``CONTEXT_DEFAULTS`` is the documented default of each (README.md explains them; a
test checks that cdk.json spells out exactly these). Values are validated here, so a typo fails the synth with
one clear line instead of a broken deployment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from constructs import Node

from infra import constants as c
from shared.config import CloudConfig, FxConfig, LangfuseConfig

SUPPORTED_CURRENCIES = ("USD", "EUR", "GBP", "MYR", "IDR", "SGD", "AUD", "CHF", "SEK", "NOK", "DKK")
LOG_RETENTION_DAYS = (30, 60, 90, 180, 365, 400, 545, 731, 1827, 3653)

CONTEXT_DEFAULTS: Mapping[str, Any] = {
    "langfuseHost": LangfuseConfig.host,
    "langfuseSecretName": "muster-costs/langfuse",
    "llmLookbackHours": LangfuseConfig.lookback_hours,
    "cloudLookbackDays": CloudConfig.lookback_days,
    "connectionRolePrefix": CloudConfig.role_name_prefix,
    "fxStalenessDays": FxConfig.staleness_days,
    "ecbBaseUrl": FxConfig.ecb_base_url,
    "bnmBaseUrl": FxConfig.bnm_base_url,
    "biBaseUrl": FxConfig.bi_base_url,
    "defaultCurrency": "USD",
    "reportSender": "",
    "alarmEmail": "",
    "schedules": {spec.name: list(spec.schedules) for spec in c.WORKERS},
    "logRetentionDays": 90,
    "apiThrottleRateLimit": 10,
    "apiThrottleBurstLimit": 20,
}

_EMAIL = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_ROLE_PREFIX = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,60}$")
_SCHEDULE = re.compile(r"^(cron|rate)\(.+\)$")


class ContextError(ValueError):
    """A context value is missing its expected shape; the message names the key."""


@dataclass(frozen=True)
class DeployConfig:
    langfuse_host: str
    langfuse_secret_name: str
    llm_lookback_hours: int
    cloud_lookback_days: int
    connection_role_prefix: str
    fx_staleness_days: int
    ecb_base_url: str
    bnm_base_url: str
    bi_base_url: str
    default_currency: str
    report_sender: str  # "" = the weekly report is deployed with its schedule disabled and no SES permission
    alarm_email: str  # "" = no e-mail subscription on the alarm topic
    schedules: Mapping[str, tuple[str, ...]]  # FunctionSpec.name -> schedule expressions
    log_retention_days: int
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int

    @classmethod
    def from_node(cls, node: Node) -> DeployConfig:
        return cls.from_mapping({key: node.try_get_context(key) for key in CONTEXT_DEFAULTS})

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> DeployConfig:
        values = {key: default if raw.get(key) is None else raw[key] for key, default in CONTEXT_DEFAULTS.items()}
        return cls(
            langfuse_host=_url(values, "langfuseHost"),
            langfuse_secret_name=_match(values, "langfuseSecretName", _SECRET_NAME),
            llm_lookback_hours=_int(values, "llmLookbackHours", 1, 168),
            cloud_lookback_days=_int(values, "cloudLookbackDays", 1, 90),
            connection_role_prefix=_match(values, "connectionRolePrefix", _ROLE_PREFIX),
            fx_staleness_days=_int(values, "fxStalenessDays", 1, 60),
            ecb_base_url=_url(values, "ecbBaseUrl"),
            bnm_base_url=_url(values, "bnmBaseUrl"),
            bi_base_url=_url(values, "biBaseUrl"),
            default_currency=_currency(values, "defaultCurrency"),
            report_sender=_optional_email(values, "reportSender"),
            alarm_email=_optional_email(values, "alarmEmail"),
            schedules=_schedules(values, "schedules"),
            log_retention_days=_choice(values, "logRetentionDays", LOG_RETENTION_DAYS),
            api_throttle_rate_limit=_int(values, "apiThrottleRateLimit", 1, 10_000),
            api_throttle_burst_limit=_int(values, "apiThrottleBurstLimit", 1, 5_000),
        )

    @property
    def report_sender_domain(self) -> str:
        return self.report_sender.rsplit("@", 1)[-1] if self.report_sender else ""

    def function_settings(self) -> dict[str, str]:
        """Values of the ENV_* variables; each function gets the ones its FunctionSpec.settings names."""
        return {
            c.ENV_LANGFUSE_HOST: self.langfuse_host,
            c.ENV_LANGFUSE_SECRET_NAME: self.langfuse_secret_name,
            c.ENV_LLM_LOOKBACK_HOURS: str(self.llm_lookback_hours),
            c.ENV_ECB_BASE_URL: self.ecb_base_url,
            c.ENV_BNM_BASE_URL: self.bnm_base_url,
            c.ENV_BI_BASE_URL: self.bi_base_url,
            c.ENV_FX_STALENESS_DAYS: str(self.fx_staleness_days),
            c.ENV_CLOUD_LOOKBACK_DAYS: str(self.cloud_lookback_days),
            c.ENV_CONNECTION_ROLE_PREFIX: self.connection_role_prefix,
            c.ENV_REPORT_SENDER: self.report_sender,
            c.ENV_DEFAULT_CURRENCY: self.default_currency,
        }


def _str(values: Mapping[str, Any], key: str) -> str:
    value = values[key]
    if not isinstance(value, str):
        raise ContextError(f"context {key!r} must be a string, got {value!r}")
    return value.strip()


def _match(values: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = _str(values, key)
    if not pattern.fullmatch(value):
        raise ContextError(f"context {key!r} has an invalid value {value!r}")
    return value


def _url(values: Mapping[str, Any], key: str) -> str:
    value = _str(values, key)
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ContextError(f"context {key!r} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _int(values: Mapping[str, Any], key: str, minimum: int, maximum: int) -> int:
    value = values[key]
    try:
        number = int(value)  # `-c key=value` arrives as a string
    except (TypeError, ValueError) as exc:
        raise ContextError(f"context {key!r} must be an integer, got {value!r}") from exc
    if isinstance(value, bool) or not minimum <= number <= maximum:
        raise ContextError(f"context {key!r} must be between {minimum} and {maximum}, got {value!r}")
    return number


def _choice(values: Mapping[str, Any], key: str, allowed: tuple[int, ...]) -> int:
    number = _int(values, key, min(allowed), max(allowed))
    if number not in allowed:
        raise ContextError(f"context {key!r} must be one of {', '.join(map(str, allowed))}, got {number}")
    return number


def _currency(values: Mapping[str, Any], key: str) -> str:
    value = _str(values, key).upper()
    if value not in SUPPORTED_CURRENCIES:
        raise ContextError(f"context {key!r} must be one of {', '.join(SUPPORTED_CURRENCIES)}, got {value!r}")
    return value


def _optional_email(values: Mapping[str, Any], key: str) -> str:
    value = _str(values, key)
    if value and not _EMAIL.fullmatch(value):
        raise ContextError(f"context {key!r} must be an e-mail address or empty, got {value!r}")
    return value


def _schedules(values: Mapping[str, Any], key: str) -> Mapping[str, tuple[str, ...]]:
    raw = values[key]
    if isinstance(raw, str):  # `-c schedules='{"...": [...]}'`
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ContextError(f"context {key!r} must be a JSON object, got {raw!r}") from exc
    if not isinstance(raw, Mapping):
        raise ContextError(f"context {key!r} must map a worker name to schedule expressions, got {raw!r}")
    known = {spec.name: spec.schedules for spec in c.WORKERS}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ContextError(f"context {key!r} names unknown workers {unknown}; known: {sorted(known)}")
    merged: dict[str, tuple[str, ...]] = {}
    for name, default in known.items():
        expressions = raw.get(name, default)
        expressions = [expressions] if isinstance(expressions, str) else expressions
        if not isinstance(expressions, list | tuple) or not expressions:
            raise ContextError(f"context {key}.{name} must be a non-empty list of expressions, got {expressions!r}")
        for expression in expressions:
            if not isinstance(expression, str) or not _SCHEDULE.fullmatch(expression):
                raise ContextError(f"context {key}.{name}: {expression!r} is not a cron(...) or rate(...) expression")
        merged[name] = tuple(expressions)
    return merged
