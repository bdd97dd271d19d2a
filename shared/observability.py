"""The one place Powertools Logger, Tracer and Metrics are created; every module imports them from here."""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

SERVICE_NAME = "muster-costs"
METRICS_NAMESPACE = "MusterCosts"

logger = Logger(service=SERVICE_NAME)
tracer = Tracer(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


def emit_dimensioned_metrics(dimensions: Mapping[str, str], values: Mapping[str, tuple[float, MetricUnit]]) -> None:
    """Metrics under their own dimensions (per agent, per source), flushed at once as one EMF document.

    The shared ``metrics`` object applies its dimensions to every metric of the run, so per-agent or per-source
    figures go out separately; silent when metrics are off (local mode, tests).
    """
    if is_metrics_disabled() or not values:
        return
    document = AmazonCloudWatchEMFProvider(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
    for dimension, dimension_value in dimensions.items():
        document.add_dimension(name=dimension, value=dimension_value)
    for name, (value, unit) in values.items():
        document.add_metric(name=name, unit=unit, value=value)
    document.flush_metrics()


def add_dimensioned_metric(name: str, value: float, unit: MetricUnit, dimension: str, dimension_value: str) -> None:
    """One metric with one dimension of its own (e.g. cost per agent)."""
    emit_dimensioned_metrics({dimension: dimension_value}, {name: (value, unit)})


__all__ = [
    "METRICS_NAMESPACE",
    "SERVICE_NAME",
    "MetricUnit",
    "add_dimensioned_metric",
    "emit_dimensioned_metrics",
    "logger",
    "metrics",
    "tracer",
]
