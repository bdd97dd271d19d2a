"""The API: IAM authorization on every method, validated requests, throttled and logged stage, URL output."""

from __future__ import annotations

from typing import Any

from infra import constants as c
from tests.infra.conftest import Synth


def _resources_of(synth: Synth, kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in synth.resources.items() if r["Type"] == kind}


def _path(synth: Synth, resource_id: str) -> str:
    """The full path of an AWS::ApiGateway::Resource, following ParentId up to the root."""
    resources = _resources_of(synth, "AWS::ApiGateway::Resource")
    parts = []
    while resource_id in resources:
        properties = resources[resource_id]["Properties"]
        parts.append(properties["PathPart"])
        resource_id = properties["ParentId"].get("Ref", "")
    return "/" + "/".join(reversed(parts))


def test_every_route_is_a_get_to_the_costs_function(synth: Synth) -> None:
    methods = _resources_of(synth, "AWS::ApiGateway::Method").values()
    routes = {_path(synth, m["Properties"]["ResourceId"]["Ref"]): m["Properties"] for m in methods}
    assert set(routes) == {"/costs/summary", "/costs/agents", "/costs/agents/{agentId}", "/costs/period"}
    function_arn = {"Fn::GetAtt": [synth.logical_id(synth.stack.api_function.function), "Arn"]}
    for method in routes.values():
        assert method["HttpMethod"] == "GET"
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert function_arn in method["Integration"]["Uri"]["Fn::Join"][1]


def test_every_method_requires_iam_authorization(synth: Synth) -> None:
    methods = _resources_of(synth, "AWS::ApiGateway::Method").values()
    assert methods
    assert {m["Properties"]["AuthorizationType"] for m in methods} == {"AWS_IAM"}


def test_requests_are_validated(synth: Synth) -> None:
    ((validator_id, validator),) = _resources_of(synth, "AWS::ApiGateway::RequestValidator").items()
    assert validator["Properties"]["ValidateRequestParameters"] is True
    assert validator["Properties"]["ValidateRequestBody"] is True
    for method in _resources_of(synth, "AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        assert properties["RequestValidatorId"] == {"Ref": validator_id}
        declared = {name.rsplit(".", 1)[1] for name in properties["RequestParameters"]}
        assert set(c.API_QUERY_PARAMETERS) <= declared
    agent = next(
        m["Properties"]
        for m in _resources_of(synth, "AWS::ApiGateway::Method").values()
        if _path(synth, m["Properties"]["ResourceId"]["Ref"]).endswith("{agentId}")
    )
    assert agent["RequestParameters"]["method.request.path.agentId"] is True


def test_stage_is_throttled_logged_and_traced(synth: Synth) -> None:
    ((_, stage),) = _resources_of(synth, "AWS::ApiGateway::Stage").items()
    properties = stage["Properties"]
    assert properties["StageName"] == c.API_STAGE
    assert properties["TracingEnabled"] is True
    (settings,) = properties["MethodSettings"]
    assert settings["ResourcePath"] == "/*" and settings["HttpMethod"] == "*"
    assert settings["ThrottlingRateLimit"] == 10 and settings["ThrottlingBurstLimit"] == 20
    assert settings["LoggingLevel"] == "INFO"
    assert settings["DataTraceEnabled"] is False  # response bodies (cost data) never reach execution logs
    access = properties["AccessLogSetting"]
    assert synth.logical_id(synth.stack.api.access_logs) in str(access["DestinationArn"])
    assert access["Format"].startswith("{") and '"status":"$context.status"' in access["Format"]


def test_api_url_is_a_stack_output(template: Any) -> None:
    outputs = template.to_json()["Outputs"]
    assert "ApiUrl" in outputs
    assert "execute-api" in str(outputs["ApiUrl"]["Value"])
