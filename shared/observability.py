"""The one place Powertools Logger, Tracer and Metrics are created; every module imports them from here."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE_NAME = "muster-costs"
METRICS_NAMESPACE = "MusterCosts"

logger = Logger(service=SERVICE_NAME)
tracer = Tracer(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


def add_dimensioned_metric(name: str, value: float, unit: MetricUnit, dimension: str, dimension_value: str) -> None:
    """One metric with its own dimension (e.g. cost per agent), flushed at once; silent when metrics are off."""
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=unit, value=value, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name=dimension, value=dimension_value)


__all__ = [
    "METRICS_NAMESPACE",
    "SERVICE_NAME",
    "MetricUnit",
    "add_dimensioned_metric",
    "logger",
    "metrics",
    "tracer",
]
