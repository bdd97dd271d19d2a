"""The names in infra/constants.py agree with the code they describe."""

from __future__ import annotations

import inspect
from pathlib import Path

from infra import constants as c
from shared import config, observability

ROOT = Path(__file__).resolve().parents[2]
# Set by the stack, not yet read by shared/config.py: the lead wires it at merge (see README.md).
AWAITING_A_READER: set[str] = set()


def test_metric_namespace_and_service_match_observability() -> None:
    assert c.METRICS_NAMESPACE == observability.METRICS_NAMESPACE
    assert c.SERVICE_NAME == observability.SERVICE_NAME


def test_every_function_has_its_handler_module() -> None:
    for spec in c.FUNCTIONS:
        assert (ROOT / "functions" / spec.name / "handler.py").is_file(), spec.name
    assert (ROOT / "functions" / "__init__.py").is_file()


def test_every_setting_the_stack_passes_is_read_by_the_config() -> None:
    source = inspect.getsource(config)
    passed = {name for spec in c.FUNCTIONS for name in spec.settings}
    unread = {name for name in passed if f'"{name}"' not in source}
    assert unread == AWAITING_A_READER


def test_names_are_unique() -> None:
    assert len({spec.name for spec in c.FUNCTIONS}) == len(c.FUNCTIONS)
    assert len({metric.name for metric in c.METRICS}) == len(c.METRICS)


def test_writes_are_also_readable_and_reads_exclude_nothing() -> None:
    for spec in c.FUNCTIONS:
        assert set(spec.tables) == set(spec.reads) | set(spec.writes)
        assert not set(spec.read_only_tables) & set(spec.writes)


def test_every_dashboard_and_alarm_metric_is_emitted_by_the_code() -> None:
    """A metric the monitoring reads but no worker emits would leave a widget empty and an alarm silent."""
    from pathlib import Path

    source = "\n".join(path.read_text() for path in (Path(__file__).resolve().parents[2] / "shared").rglob("*.py"))
    missing = [metric.name for metric in c.METRICS if f'"{metric.name}"' not in source]
    assert missing == []
