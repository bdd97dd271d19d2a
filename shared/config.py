"""Typed configuration, read from the environment once. No other module reads ``os.environ``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from shared.dal.tables import ALL_TABLES
from shared.errors import ConfigurationError

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and bounded retries for one external source."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_attempts: int = 4
    backoff_base: float = 0.5  # seconds; doubles per attempt
    backoff_max: float = 20.0
    max_retry_after: float = 60.0  # never sleep longer than this for a Retry-After


@dataclass(frozen=True)
class LangfuseConfig:
    host: str = "https://cloud.langfuse.com"
    public_key: str | None = None
    secret_key: str | None = None
    secret_name: str | None = None  # Secrets Manager secret holding {"publicKey", "secretKey"} in AWS
    page_limit: int = 1000
    lookback_hours: int = 3
    http: HttpPolicy = field(default_factory=HttpPolicy)


@dataclass(frozen=True)
class FxConfig:
    ecb_base_url: str = "https://www.ecb.europa.eu"
    bnm_base_url: str = "https://api.bnm.gov.my"
    bi_base_url: str = "https://www.bi.go.id"
    bnm_session: str = "1700"
    max_backfill_days: int = 90
    staleness_days: int = 7
    day_over_day_limit: Decimal = Decimal("0.10")  # reject moves above 10 % day over day
    http: HttpPolicy = field(default_factory=HttpPolicy)


@dataclass(frozen=True)
class CloudConfig:
    lookback_days: int = 5
    restatement_days: int = 5  # during the first N days of a month, also re-read the whole previous month
    assume_role_seconds: int = 900
    session_name_prefix: str = "muster-costs"
    role_name_prefix: str = "MusterCostReader"  # customer roles must be named with this prefix
    worker_role_arn: str | None = None  # printed into customer role templates
    max_attempts: int = 8


@dataclass(frozen=True)
class ReportConfig:
    sender: str | None = None


@dataclass(frozen=True)
class Settings:
    region: str = DEFAULT_REGION
    default_currency: str = "USD"  # MUSTER_DEFAULT_CURRENCY: the display currency until project settings name one
    endpoint_url: str | None = None  # MUSTER_ENDPOINT_URL: every AWS client goes there (moto, local mode)
    table_names: Mapping[str, str] = field(default_factory=lambda: {t.logical_name: t.logical_name for t in ALL_TABLES})
    langfuse: LangfuseConfig = field(default_factory=LangfuseConfig)
    fx: FxConfig = field(default_factory=FxConfig)
    cloud: CloudConfig = field(default_factory=CloudConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def table_name(self, logical_name: str) -> str:
        return self.table_names[logical_name]


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return value


def _decimal(env: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise ConfigurationError(f"{name} must be a decimal number, got {raw!r}") from exc


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not value.startswith(("http://", "https://")):
        raise ConfigurationError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _currency(env: Mapping[str, str], name: str) -> str:
    from shared.domain.fx import parse_currency  # pure; imported here to keep config's import graph small
    from shared.errors import UnsupportedCurrencyError

    try:
        return parse_currency(env.get(name) or "USD")
    except UnsupportedCurrencyError as exc:
        raise ConfigurationError(f"{name}: {exc}") from exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from an environment mapping (``os.environ`` by default)."""
    env = os.environ if env is None else env
    return Settings(
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        default_currency=_currency(env, "MUSTER_DEFAULT_CURRENCY"),
        endpoint_url=env.get("MUSTER_ENDPOINT_URL") or None,
        table_names={t.logical_name: env.get(t.env_var) or t.logical_name for t in ALL_TABLES},
        langfuse=LangfuseConfig(
            host=_url(env, "LANGFUSE_HOST", LangfuseConfig.host),
            public_key=env.get("LANGFUSE_PUBLIC_KEY") or None,
            secret_key=env.get("LANGFUSE_SECRET_KEY") or None,
            secret_name=env.get("LANGFUSE_SECRET_NAME") or None,
            page_limit=min(_int(env, "LANGFUSE_PAGE_LIMIT", 1000, minimum=1), 1000),
            lookback_hours=_int(env, "MUSTER_LLM_LOOKBACK_HOURS", 3, minimum=1),
        ),
        fx=FxConfig(
            ecb_base_url=_url(env, "ECB_BASE_URL", FxConfig.ecb_base_url),
            bnm_base_url=_url(env, "BNM_BASE_URL", FxConfig.bnm_base_url),
            bi_base_url=_url(env, "BI_BASE_URL", FxConfig.bi_base_url),
            bnm_session=env.get("BNM_SESSION") or FxConfig.bnm_session,
            max_backfill_days=_int(env, "MUSTER_FX_MAX_BACKFILL_DAYS", 90, minimum=1),
            staleness_days=_int(env, "MUSTER_FX_STALENESS_DAYS", 7, minimum=1),
            day_over_day_limit=_decimal(env, "MUSTER_FX_DAY_OVER_DAY_LIMIT", FxConfig.day_over_day_limit),
        ),
        cloud=CloudConfig(
            lookback_days=_int(env, "MUSTER_CLOUD_LOOKBACK_DAYS", 5, minimum=1),
            restatement_days=_int(env, "MUSTER_CLOUD_RESTATEMENT_DAYS", 5),
            role_name_prefix=env.get("MUSTER_CONNECTION_ROLE_PREFIX") or CloudConfig.role_name_prefix,
            worker_role_arn=env.get("MUSTER_CLOUD_WORKER_ROLE_ARN") or None,
        ),
        report=ReportConfig(sender=env.get("MUSTER_REPORT_SENDER") or None),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (per cold start)."""
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()


def set_environment(values: Mapping[str, str]) -> None:
    """Set process environment variables (local mode and the CLI only), then re-read the settings."""
    os.environ.update(values)
    reset_settings()
