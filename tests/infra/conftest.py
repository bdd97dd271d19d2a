"""One synthesized stack per session (synth costs seconds): bundling skipped, no cdk-nag (its own test)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from infra import constants as c
from infra.app import create_app
from infra.stack import MusterCostsStack

SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}  # the layer is not built: never deploy a test cdk.out
CONFIGURED = {"reportSender": "costs@example.com", "alarmEmail": "ops@example.com"}


@dataclass(frozen=True)
class Synth:
    stack: MusterCostsStack
    template: Template
    outdir: Path
    resources: dict[str, Any]  # the template's Resources, read once (each to_json() crosses into node)

    def logical_id(self, construct: Any) -> str:
        """The logical id of an L2 construct's CloudFormation resource."""
        return Stack.of(self.stack).get_logical_id(construct.node.default_child)

    def resolve(self, value: Any) -> Any:
        return self.stack.resolve(value)


def synthesize(outdir: Path, context: Mapping[str, Any]) -> Synth:
    app = create_app(context={**SKIP_BUNDLING, **context}, outdir=str(outdir))
    stack = app.node.find_child(c.STACK_NAME)
    assert isinstance(stack, MusterCostsStack)
    template = Template.from_stack(stack)
    return Synth(stack=stack, template=template, outdir=outdir, resources=template.to_json()["Resources"])


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack as a customer configures it: report sender and alarm e-mail set, everything else default."""
    return synthesize(tmp_path_factory.mktemp("cdk-configured"), CONFIGURED)


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack with cdk.json's defaults only (no report sender, no alarm e-mail)."""
    return synthesize(tmp_path_factory.mktemp("cdk-default"), {})


@pytest.fixture(scope="session")
def template(synth: Synth) -> Template:
    return synth.template


@pytest.fixture(scope="session")
def role_statements(synth: Synth) -> Callable[[str], list[dict[str, Any]]]:
    """Every Allow/Deny statement that applies to one function's role: its inline policies and attached policies."""
    resources = synth.resources

    def statements(function_name: str) -> list[dict[str, Any]]:
        role_id = synth.logical_id(_function(synth, function_name).role)
        found = [
            statement
            for policy in resources[role_id]["Properties"].get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        for resource in resources.values():
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
                found.extend(resource["Properties"]["PolicyDocument"]["Statement"])
        return found

    return statements


def _function(synth: Synth, name: str) -> Any:
    if name == c.COSTS_API.name:
        return synth.stack.api_function
    return synth.stack.workers[name]


@pytest.fixture(scope="session")
def function_resource(synth: Synth) -> Callable[[str], dict[str, Any]]:
    def resource(name: str) -> dict[str, Any]:
        found: dict[str, Any] = synth.resources[synth.logical_id(_function(synth, name).function)]
        return found

    return resource


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
