"""``CostApi``: the REST API in front of the ``costs_api`` function.

Every method requires IAM (SigV4) authorization: callers are IAM principals of the deploying account, nothing
is public. Query parameters are declared and validated, the stage is throttled, access logs go to their own log
group as JSON, execution logs and X-Ray tracing are on.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants as c


class CostApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.IFunction,
        throttle_rate_limit: int,
        throttle_burst_limit: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        self.rest_api = apigw.RestApi(
            self,
            "Api",
            description="Muster Costs: per-agent LLM and cloud costs (IAM authorization)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The regional API Gateway -> CloudWatch Logs role, needed for execution logs. Kept on stack deletion:
            # it is an account-wide setting other APIs in the region may rely on.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=c.API_STAGE,
                throttling_rate_limit=throttle_rate_limit,
                throttling_burst_limit=throttle_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.INFO,
                data_trace_enabled=False,  # never log response bodies (cost data) in execution logs
                metrics_enabled=True,
                tracing_enabled=True,
            ),
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
        )
        self.validator = apigw.RequestValidator(
            self,
            "Validator",
            rest_api=self.rest_api,
            validate_request_parameters=True,
            validate_request_body=True,
        )
        integration = apigw.LambdaIntegration(handler, allow_test_invoke=False)
        for route in c.API_ROUTES:
            resource = self.rest_api.root.resource_for_path(route)
            parameters = {f"method.request.querystring.{name}": False for name in c.API_QUERY_PARAMETERS}
            parameters.update({f"method.request.path.{name}": True for name in _path_parameters(route)})
            resource.add_method(
                "GET",
                integration,
                authorization_type=apigw.AuthorizationType.IAM,
                request_validator=self.validator,
                request_parameters=parameters,
            )
        self.rest_api.node.try_remove_child("Endpoint")  # the generated output; "ApiUrl" below replaces it
        CfnOutput(self, "Url", key="ApiUrl", value=self.rest_api.url, description="Base URL of the costs API")


def _path_parameters(route: str) -> list[str]:
    return [part[1:-1] for part in route.split("/") if part.startswith("{") and part.endswith("}")]
