"""tools/bootstrap.yaml against the stacks every flavour makes: resources compared, partitions, names per region."""

from __future__ import annotations

import copy

import pytest

from tools import httpapi, samtemplate
from tools.checks import bootstrap, sam
from tools.checks import httpapi as http_checks

PROD = sam.parse_overrides(sam.deploy_settings("prod").get("parameter_overrides", ""))


def transformed(path, region: str = "us-east-1") -> dict:
    source = samtemplate.load(path)
    return sam.translate(source, sam.parameter_values(source, {**http_checks.EXAMPLE_VALUES, **PROD}), region=region)


@pytest.fixture(scope="module")
def roles() -> dict:
    return samtemplate.load(bootstrap.BOOTSTRAP)


@pytest.fixture(scope="module")
def http_stack() -> dict:
    return transformed(httpapi.TARGETS[httpapi.JWT])


@pytest.fixture(scope="module")
def rest_stack() -> dict:
    return transformed(samtemplate.TEMPLATE)


def statement(template: dict, role: str, sid: str) -> dict:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return next(item for item in policy["PolicyDocument"]["Statement"] if item.get("Sid") == sid)


def without(template: dict, role: str, sid: str) -> dict:
    broken = copy.deepcopy(template)
    (policy,) = broken["Resources"][role]["Properties"]["Policies"]
    policy["PolicyDocument"]["Statement"] = [
        item for item in policy["PolicyDocument"]["Statement"] if item.get("Sid") != sid
    ]
    return broken


def test_the_roles_cover_every_resource_of_each_flavour(roles, rest_stack, http_stack):
    assert bootstrap.check_resources(roles, rest_stack, "prod") == []
    assert bootstrap.check_resources(roles, http_stack, "prod") == []


def test_an_api_gateway_statement_for_rest_apis_only_fails_the_http_api_stack(roles, rest_stack, http_stack):
    broken = copy.deepcopy(roles)
    api = statement(broken, "ProdCloudFormationRole", "ApiGateway")
    api["Resource"] = [arn for arn in api["Resource"] if "/apis" not in str(arn)]
    assert bootstrap.check_resources(broken, rest_stack, "prod") == []
    problems = bootstrap.check_resources(broken, http_stack, "prod")
    assert (
        "ProdCloudFormationRole may not apigateway:POST on arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5, which "
        "Api (AWS::ApiGatewayV2::Api) of the app stack needs: add it to a statement of the role" in problems
    )


def test_an_http_api_stage_with_access_logs_needs_the_log_delivery_permissions(roles, http_stack):
    problems = bootstrap.check_resources(
        without(roles, "ProdCloudFormationRole", "HttpApiAccessLogs"), http_stack, "prod"
    )
    assert [problem.split(",")[0] for problem in problems if "Resource: '*'" in problem] == [
        f"ProdCloudFormationRole may not {action} on Resource: '*'"
        for action in bootstrap.LOG_DELIVERY
        if action != "logs:DescribeResourcePolicies"
    ]  # also granted by DescribeLogGroups


def test_tag_permissions_granted_on_alarms_only_do_not_cover_the_dashboard(roles, rest_stack):
    broken = copy.deepcopy(roles)
    statement(broken, "DevCloudFormationRole", "Dashboard")["Action"] = [
        "cloudwatch:PutDashboard",
        "cloudwatch:GetDashboard",
        "cloudwatch:DeleteDashboards",
    ]
    problems = bootstrap.check_resources(broken, transformed(samtemplate.TEMPLATE), "dev")
    assert [problem.split(" on ")[0] for problem in problems] == [
        "DevCloudFormationRole may not cloudwatch:ListTagsForResource",
        "DevCloudFormationRole may not cloudwatch:TagResource",
        "DevCloudFormationRole may not cloudwatch:UntagResource",
    ]


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_the_x_ray_policy_sam_attaches_in_other_partitions_may_be_attached(roles, region):
    broken = copy.deepcopy(roles)
    condition = statement(broken, "ProdCloudFormationRole", "ManagedPoliciesOnlyWithTheBoundary")["Condition"]
    condition["ArnEquals"]["iam:PolicyARN"] = [
        arn for arn in condition["ArnEquals"]["iam:PolicyARN"] if "AWSXRayDaemonWriteAccess" not in str(arn)
    ]
    stack = transformed(samtemplate.TEMPLATE, region)
    assert bootstrap.check_managed_policies(roles, stack) == []
    assert bootstrap.check_managed_policies(broken, stack)[0].startswith(
        "ProdCloudFormationRole may not attach AWSXRayDaemonWriteAccess, which SAM attaches"
    )


def test_a_boundary_named_without_its_region_is_rejected(roles):
    broken = copy.deepcopy(roles)
    broken["Resources"]["DevBoundary"]["Properties"]["ManagedPolicyName"] = {"Fn::Sub": "${StackPrefix}-dev-boundary"}
    assert bootstrap.check_names(broken) == [
        "DevBoundary is named '<StackPrefix>-dev-boundary', but make deploy gives the dev stack the boundary "
        "'<StackPrefix>-dev-<AWS::Region>-boundary': set ManagedPolicyName to that"
    ]


def test_a_resource_type_with_no_known_arn_is_named(roles):
    stack = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    assert bootstrap.check_resources(roles, stack, "prod") == [
        "the app stack has Queue, of a type tools/checks/bootstrap.py knows no ARN for: add AWS::SQS::Queue to "
        "RESOURCE_ARNS"
    ]
