"""The HTTP API templates: derived from template.yaml by rule, checked offline, chosen by API at deploy time."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest

from shared import config, errors
from shared.principal import jwt_authorizer_problem, principal_from_event
from tools import deploy, httpapi, samtemplate
from tools.checks import httpapi as checks
from tools.checks import sam
from tools.samtemplate import Evaluator

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REST = samtemplate.load()


def events(template: dict, kind: str) -> dict[tuple[str, str], dict]:
    return {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"]): event
        for resource in samtemplate.functions(template).values()
        for event in (resource["Properties"].get("Events") or {}).values()
        if event["Type"] == kind
    }


@pytest.mark.parametrize("flavour", [httpapi.JWT, httpapi.LAMBDA])
def test_every_rest_route_becomes_an_http_api_route_with_the_same_authorizer_and_payload_2(flavour):
    derived = events(httpapi.derive(REST, flavour), "HttpApi")
    rest = events(REST, "Api")
    assert set(derived) == set(rest)
    for key, event in rest.items():
        assert derived[key]["Properties"].get("Auth") == event["Properties"].get("Auth")
        assert derived[key]["Properties"]["PayloadFormatVersion"] == "2.0"


def test_the_jwt_flavour_deploys_no_authorizer_function_nor_its_parameters():
    derived = httpapi.derive(REST, httpapi.JWT)
    authorizer, _ = samtemplate.authorizer_function(REST)
    assert authorizer not in derived["Resources"]
    assert not {"JwtSecretArn", "JwtJwksUrl", f"{authorizer}Revision"} & set(derived["Parameters"])
    assert derived["Resources"]["Api"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"] == {
        "IdentitySource": "$request.header.Authorization",
        "JwtConfiguration": {"issuer": {"Ref": "JwtIssuer"}, "audience": [{"Ref": "JwtAudience"}]},
    }


def test_the_lambda_flavour_keeps_the_authorizer_function_with_simple_responses():
    authorizer = httpapi.derive(REST, httpapi.LAMBDA)["Resources"]["Api"]["Properties"]["Auth"]["Authorizers"]
    assert authorizer["JwtAuthorizer"]["EnableSimpleResponses"] is True
    assert authorizer["JwtAuthorizer"]["AuthorizerPayloadFormatVersion"] == "2.0"
    assert authorizer["JwtAuthorizer"]["Identity"]["Headers"] == ["Authorization"]


def test_the_api_has_no_stage_name_so_sam_makes_the_default_stage():
    assert "StageName" not in httpapi.derive(REST, httpapi.JWT)["Resources"]["Api"]["Properties"]


def test_method_settings_become_the_default_route_settings():
    properties = httpapi.derive(REST, httpapi.JWT)["Resources"]["Api"]["Properties"]
    assert properties["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ThrottleRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ThrottleBurstLimit"},
    }


def test_access_log_variables_are_mapped_and_rest_only_ones_dropped():
    fields = httpapi.access_log_format('{"resource":"$context.resourcePath","latency":"$context.authorizer.latency"}')
    assert fields == '{"resource":"$context.routeKey"}'


def test_an_access_log_variable_without_a_rule_stops_the_derivation():
    with pytest.raises(httpapi.DerivationError, match=r"\$context.wafResponseCode"):
        httpapi.access_log_format('{"waf":"$context.wafResponseCode"}')


def test_a_rest_only_property_is_dropped_and_an_unknown_one_stops_the_derivation():
    rest = copy.deepcopy(REST)
    rest["Resources"]["Api"]["Properties"]["GatewayResponses"] = {"DEFAULT_4XX": {}}
    assert "GatewayResponses" not in httpapi.derive(rest, httpapi.JWT)["Resources"]["Api"]["Properties"]
    rest["Resources"]["Api"]["Properties"]["Domain"] = {"DomainName": "api.example.com"}
    with pytest.raises(httpapi.DerivationError, match="Domain"):
        httpapi.derive(rest, httpapi.JWT)


def test_rest_only_resources_are_dropped():
    rest = copy.deepcopy(REST)
    rest["Resources"]["UsagePlan"] = {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {}}
    rest["Resources"]["Firewall"] = {"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {}}
    assert not {"UsagePlan", "Firewall"} & set(httpapi.derive(rest, httpapi.JWT)["Resources"])


def test_api_alarms_watch_the_http_api_metrics_by_api_id_and_default_stage():
    alarm = httpapi.derive(REST, httpapi.JWT)["Resources"]["ApiServerErrorsAlarm"]["Properties"]
    assert alarm["MetricName"] == "5xx"
    assert alarm["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "Api"}}, {"Name": "Stage", "Value": "$default"}]


def test_every_function_keeps_its_deployment_preference_and_version_alarms():
    derived = httpapi.derive(REST, httpapi.LAMBDA)
    for name, function in samtemplate.functions(REST).items():
        preference = derived["Resources"][name]["Properties"]["DeploymentPreference"]
        assert preference == function["Properties"]["DeploymentPreference"]
        alarms = [alarm["Ref"] for alarm in preference["Alarms"]["Fn::If"][1]]
        assert alarms and all(alarm in derived["Resources"] for alarm in alarms)


def test_an_api_wide_alarm_in_a_deployment_group_is_left_out_there_it_would_be_a_dependency_cycle():
    rest = copy.deepcopy(REST)
    function = next(
        name for name, resource in samtemplate.functions(REST).items() if "Events" in resource["Properties"]
    )
    own = {"Ref": function.removesuffix("Function") + "ErrorsAlarm"}
    preference = rest["Resources"][function]["Properties"]["DeploymentPreference"]
    preference["Alarms"] = {"Fn::If": ["IsProduction", [own, {"Ref": "ApiServerErrorsAlarm"}], []]}
    derived = httpapi.derive(rest, httpapi.JWT)["Resources"]
    assert derived[function]["Properties"]["DeploymentPreference"]["Alarms"] == {"Fn::If": ["IsProduction", [own], []]}
    assert "ApiServerErrorsAlarm" in derived


def test_the_url_output_has_no_stage_segment():
    assert "StageName" not in str(httpapi.derive(REST, httpapi.JWT)["Outputs"]["ApiUrl"])


def test_the_committed_http_templates_are_up_to_date():
    assert httpapi.stale() == []


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("http-stage-name.yaml", "sets StageName 'v1': remove it"),
        ("http-payload-version.yaml", "PayloadFormatVersion 1.0"),
        ("http-identity-source.yaml", "use IdentitySource: $request.header.Authorization"),
    ],
)
def test_each_http_api_mistake_is_caught_with_its_fix(fixture, message):
    problems = checks.check_source(samtemplate.load(FIXTURES / fixture), fixture)
    assert [problem for problem in problems if message in problem], problems


def test_the_stage_name_mistake_is_also_seen_in_the_transformed_stage():
    problems = checks.check(FIXTURES / "http-stage-name.yaml")
    assert any("must be $default with AutoDeploy" in problem for problem in problems)


def test_deploying_api_http_with_a_jwks_issuer_picks_the_jwt_template():
    environ = {"API": "http", "JWT_JWKS_URL": "https://issuer.example.com/keys"}
    assert deploy.template_for(deploy.chosen_api("dev", environ), environ).name == "template-http.yaml"


def test_deploying_api_http_with_a_secret_picks_the_lambda_authorizer_template():
    environ = {"API": "http", "JWT_SECRET_ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/bare-api/dev/jwt"}
    assert deploy.template_for(deploy.chosen_api("dev", environ), environ).name == "template-http-lambda.yaml"


def test_the_api_defaults_to_rest_and_refuses_other_names():
    assert deploy.chosen_api("dev", {}) == "rest"
    with pytest.raises(deploy.DeployError, match="rest"):
        deploy.chosen_api("dev", {"API": "graphql"})


def test_the_jwt_template_gets_a_value_for_every_parameter_it_declares():
    environ = {
        "API": "http",
        "JWT_JWKS_URL": "https://issuer.example.com/keys",
        "MONGODB_URI_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bare-api/dev/uri-AbCdEf",
        "JWT_ISSUER": "https://issuer.example.com/",
        "JWT_AUDIENCE": "bare-api",
    }
    path = deploy.template_for("http", environ)
    values = deploy.parameter_overrides("dev", environ, path)
    declared = samtemplate.load(path)["Parameters"]
    revisions = {name for name in declared if name.endswith("Revision")}
    assert set(values) == set(declared) - revisions
    assert "JwtJwksUrl" not in values


def test_make_deploy_api_http_builds_a_stack_the_offline_checks_accept():
    environ = {
        "API": "http",
        "JWT_JWKS_URL": "https://issuer.example.com/keys",
        "MONGODB_URI_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bare-api/dev/uri-AbCdEf",
        "JWT_ISSUER": "https://issuer.example.com/",
        "JWT_AUDIENCE": "bare-api",
    }
    path = deploy.template_for(deploy.chosen_api("dev", environ), environ)
    template = samtemplate.load(path)
    values = deploy.parameter_overrides("dev", environ, path)
    values.update(sam.function_revisions(template, values, sam.example_code(template)))
    assert deploy.deploy_arguments("dev", "us-east-1", values, environ, path)[4] == str(path)
    cfn = sam.translate(template, values, sam.example_code(template))
    evaluator = Evaluator(cfn, values)
    assert checks.check_routes(template, cfn, evaluator) == []
    assert checks.check_authorizer(cfn, evaluator, httpapi.JWT) == []
    assert checks.check_permissions(cfn, evaluator) + checks.check_stage(cfn) == []
    assert checks.check_rollout(cfn, evaluator, "dev") == []


def jwt_claims(iat: int, exp: int) -> dict:
    return {"sub": "alice", "iat": str(iat), "exp": str(exp)}


def test_behind_the_jwt_authorizer_a_token_without_iat_is_refused():
    assert "iat" in jwt_authorizer_problem({"sub": "alice", "exp": str(int(time.time()) + 60)})


def test_behind_the_jwt_authorizer_the_maximum_lifetime_is_enforced(monkeypatch):
    monkeypatch.setenv("JWT_MAX_LIFETIME_SECONDS", "3600")
    config.settings.cache_clear()
    now = int(time.time())
    try:
        assert jwt_authorizer_problem(jwt_claims(now, now + 3600)) is None
        assert "lives longer" in jwt_authorizer_problem(jwt_claims(now, now + 3601))
        with pytest.raises(errors.Unauthorized):
            principal_from_event({"authorizer": {"jwt": {"claims": jwt_claims(now, now + 7200)}}}, {})
    finally:
        config.settings.cache_clear()


def test_the_function_side_checks_cost_less_than_reading_the_principal_at_all():
    now = int(time.time())
    claims = {**jwt_claims(now, now + 600), "email": "a@example.com"}
    lambda_context = {"authorizer": {"lambda": {"sub": "alice", "email": "a@example.com"}}}

    def best(call) -> float:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(2000):
                call()
            timings.append(time.perf_counter() - started)
        return min(timings)

    # Two isdigit() checks and a subtraction (0.8 us measured) against a principal read (3.3 us): a 4x margin.
    assert best(lambda: jwt_authorizer_problem(claims)) < best(lambda: principal_from_event(lambda_context, {}))


def test_api_gateway_may_invoke_the_lambda_authorizer_and_the_check_says_so_when_it_may_not():
    derived = httpapi.derive(REST, httpapi.LAMBDA)
    values = sam.parameter_values(derived, {})
    cfn = sam.translate(derived, values)
    assert checks.check_permissions(cfn, Evaluator(cfn, values)) == []
    del derived["Resources"]["Api"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"][
        "EnableFunctionDefaultPermissions"
    ]
    cfn = sam.translate(derived, values)
    problems = checks.check_permissions(cfn, Evaluator(cfn, values))
    assert len(problems) == 1 and "AuthorizerFunctionAliaslive" in problems[0]
