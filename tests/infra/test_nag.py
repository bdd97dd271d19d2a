"""cdk-nag AwsSolutions on its own app (a plugin on the app would also run inside Template.from_stack)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks

from infra import constants as c
from infra.app import create_app
from infra.stack import MusterCostsStack
from tests.infra.conftest import CONFIGURED, SKIP_BUNDLING


@pytest.mark.slow
@pytest.mark.parametrize("context", [{}, CONFIGURED], ids=["defaults", "configured"])
def test_aws_solutions_pack_has_no_unacknowledged_finding(tmp_path: Path, context: dict[str, str]) -> None:
    # Given the stack with every AwsSolutions rule as a validation plugin
    app = create_app(context={**SKIP_BUNDLING, **context}, outdir=str(tmp_path))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # When it is synthesized, Then no finding is left without an acknowledgment (synth raises otherwise)
    app.synth()
    stack = app.node.find_child(c.STACK_NAME)
    assert isinstance(stack, MusterCostsStack)
    acknowledgments = stack.acknowledgments
    # and every acknowledgment carries a real reason
    assert acknowledgments
    assert all(len(ack.reason) >= 80 for ack in acknowledgments)


@pytest.mark.slow
def test_the_check_fails_without_the_acknowledgments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the same stack with its acknowledgments left out
    monkeypatch.setattr("infra.stack.acknowledge_findings", lambda **_: [])
    app = create_app(context=SKIP_BUNDLING, outdir=str(tmp_path))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # When it is synthesized, Then the accepted findings fail it: the check above is live
    with pytest.raises(Exception, match=r"ValidationFailed(.|\n)*AwsSolutions-IAM5\[Resource::\*\]"):
        app.synth()
