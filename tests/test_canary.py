"""The canary checks: rollback alarms that start afresh and tolerate a blip, parameters as strict as the functions."""

from __future__ import annotations

import copy

import pytest

from tools import samtemplate
from tools.checks import canary


@pytest.fixture(scope="module")
def source() -> dict:
    return samtemplate.load()


def rollback_alarm_pairs(template: dict) -> list[tuple[str, str]]:
    """``(function, alarm)`` for every alarm a deployment group of ``template`` rolls back on."""
    return [
        (function, alarm)
        for function, resource in samtemplate.functions(template).items()
        for alarm in canary.rollback_alarms(resource["Properties"])
    ]


def test_every_flavour_passes_the_canary_checks():
    for path in (samtemplate.TEMPLATE, *samtemplate.ROOT.glob("template-http*.yaml")):
        assert canary.check(samtemplate.load(path)) == [], path.name


def test_every_rollback_alarm_is_named_after_its_functions_version(source):
    for function, alarm in rollback_alarm_pairs(source):
        assert f"${{{function}.Version.Version}}" in source["Resources"][alarm]["Properties"]["AlarmName"]["Fn::Sub"]


def test_an_alarm_that_keeps_its_name_across_deployments_is_rejected(source):
    broken = copy.deepcopy(source)
    function, alarm = rollback_alarm_pairs(broken)[0]
    del broken["Resources"][alarm]["Properties"]["AlarmName"]
    assert canary.check_alarms(broken) == [
        f"{alarm} keeps its name across deployments, so an alarm still in ALARM rolls the next version back at once "
        f"(PutMetricAlarm keeps an alarm's state): set AlarmName: !Sub ${{AWS::StackName}}-"
        f"{alarm.removesuffix('Alarm')}-v${{{function}.Version.Version}}"
    ]


def test_an_alarm_on_500s_that_fires_on_one_minute_is_rejected(source):
    broken = copy.deepcopy(source)
    alarm = next(
        alarm
        for _, alarm in rollback_alarm_pairs(broken)
        if broken["Resources"][alarm]["Properties"].get("MetricName") == "ServerErrors"
    )
    broken["Resources"][alarm]["Properties"].pop("DatapointsToAlarm")
    assert canary.check_alarms(broken) == [
        f"{alarm} rolls back on one minute with a 500, so one transient blip (a database failover) undoes a good "
        f"release: set EvaluationPeriods: 3 and DatapointsToAlarm: 2"
    ]


def test_a_function_that_rolls_out_without_the_hook_is_named(source):
    broken = copy.deepcopy(source)
    function = next(
        name for name, resource in samtemplate.functions(broken).items() if canary.hook_of(resource["Properties"])
    )
    del broken["Resources"][function]["Properties"]["DeploymentPreference"]["Hooks"]
    assert canary.check_hooks(broken)[0].startswith(f"{function} rolls out with no PreTraffic hook")


@pytest.mark.parametrize(
    "value", ["app.example.com", "https://a.example.com, https://b.example.com", "https://a.example.com/"]
)
def test_the_cors_parameter_refuses_what_the_functions_refuse_or_rewrite(source, value):
    broken = copy.deepcopy(source)
    del broken["Parameters"]["CorsAllowOrigins"]["AllowedPattern"]
    assert any(repr(value) in problem for problem in canary.check_parameter_rules(broken))
    assert canary.check_parameter_rules(source) == []


def test_a_rest_api_whose_gateway_responses_follow_a_parameter_must_always_deploy(source):
    broken = copy.deepcopy(source)
    api = next(name for name, resource in broken["Resources"].items() if resource["Type"] == "AWS::Serverless::Api")
    del broken["Resources"][api]["Properties"]["AlwaysDeploy"]
    assert canary.check_redeploy(broken) == [
        f"{api}'s GatewayResponses depend on parameters, but SAM redeploys the API only when its definition's text "
        "changes, and API Gateway serves a changed gateway response only once redeployed: set AlwaysDeploy: true"
    ]


def test_an_http_api_template_that_promises_a_traced_stage_is_rejected():
    http = samtemplate.load(next(samtemplate.ROOT.glob("template-http*.yaml")))
    assert canary.check_tracing_promise(http) == []
    http["Parameters"]["EnableTracing"]["Description"] = "AWS X-Ray active tracing of the API stage and the functions"
    assert canary.check_tracing_promise(http) == [
        "parameter EnableTracing promises tracing of the API stage, but HTTP APIs do not support X-Ray: say it traces "
        "the functions only"
    ]


def test_a_gateway_response_without_its_json_body_is_rejected(source):
    broken = copy.deepcopy(source)
    api = next(name for name, resource in broken["Resources"].items() if resource["Type"] == "AWS::Serverless::Api")
    responses = broken["Resources"][api]["Properties"]["GatewayResponses"]
    kind = next(iter(responses))
    del responses[kind]["ResponseTemplates"]
    assert canary.check_gateway_bodies(broken) == [
        f'{api}\'s gateway response {kind} leaves its body to API Gateway (SAM writes "responseTemplates": {{}}): '
        f"set ResponseTemplates: {{application/json: '{canary.GATEWAY_BODY}'}}"
    ]


def test_a_stage_5xx_alarm_that_pages_on_one_minute_is_rejected(source):
    broken = copy.deepcopy(source)
    alarm = next(
        name for name, resource in broken["Resources"].items() if resource["Properties"].get("MetricName") == "5XXError"
    )
    assert canary.check_paging(broken) == []
    broken["Resources"][alarm]["Properties"].pop("DatapointsToAlarm")
    assert canary.check_paging(broken) == [
        f"{alarm} pages on one minute of 5xx, so one transient blip (a database failover) pages someone: set "
        "EvaluationPeriods: 3 and DatapointsToAlarm: 2"
    ]
