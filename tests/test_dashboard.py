"""The dashboard: written from the template, and every widget's metric one that AWS or the functions publish."""

import copy
import importlib
import json
import re
from pathlib import Path

import pytest

import authorizer
from tools import samtemplate
from tools.checks import budget, dashboard, emitted
from tools.samtemplate import PSEUDO


def with_dashboard(template: dict) -> dict:
    """``template`` with the budget's parameters and the dashboard its functions give, as template.yaml holds it."""
    template = copy.deepcopy(template)
    template["Parameters"].setdefault(budget.LIMIT_PARAMETER, {"Type": "Number", "Default": 1500})
    template["Parameters"].setdefault(budget.ACCOUNT_PARAMETER, {"Type": "Number", "Default": 1000})
    template["Resources"][dashboard.RESOURCE] = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardBody": {"Fn::Sub": dashboard.render(template)}},
    }
    return template


def edited(template: dict, old: str, new: str) -> dict:
    """``template`` with ``old`` replaced by ``new`` in the dashboard's body text."""
    template = copy.deepcopy(template)
    body = template["Resources"][dashboard.RESOURCE]["Properties"]["DashboardBody"]
    assert old in body["Fn::Sub"]
    body["Fn::Sub"] = body["Fn::Sub"].replace(old, new)
    return template


@pytest.fixture(scope="module")
def template():
    return with_dashboard(samtemplate.load())


TOKEN_EVENT = {
    "type": "TOKEN",
    "authorizationToken": "Bearer not.a.token",
    "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/me",
}


@pytest.fixture
def lines(template, database, environment, mongo_uri, configure, capsys):
    """EMF lines of every function answering its routes' event files on the real database, and of the authorizer
    refusing a token and failing, in the stack's namespace."""
    environment(MONGODB_URI=mongo_uri, MONGODB_DATABASE=database.name, APP_NAME=PSEUDO["AWS::StackName"])
    for name, resource in samtemplate.functions(template).items():
        module, _, attribute = resource["Properties"]["Handler"].rpartition(".")
        handler = getattr(importlib.import_module(module), attribute)
        for path in emitted.events_of(template, name):
            handler(json.loads(Path(path).read_text(encoding="utf-8")), None)
    for stage in ("local", "prod"):  # refused (not a token), then failed (no key source in production)
        configure(STAGE=stage)
        with pytest.raises(Exception):  # noqa: B017 -- API Gateway's contract: Unauthorized, or a failure
            authorizer.lambda_handler(TOKEN_EVENT, None)
    return emitted.request_lines(capsys.readouterr().out)


def problems_of(template: dict, lines: list[dict]) -> list[str]:
    return [problem for problem in dashboard.check(template, lines) if "is not what the template" not in problem]


def test_every_widget_names_a_metric_that_aws_or_the_functions_lines_publish(template, lines):
    assert dashboard.check(template, lines) == []


def test_the_body_is_valid_json_once_cloudformation_substitutes_it(template):
    text = dashboard.render(template).replace("${DatabaseConnectionLimit}", "1500")
    body = json.loads(text.replace("${AccountConcurrency}", "1000"))
    titles = [widget["properties"]["title"] for widget in body["widgets"]]
    assert "Authorizer cache hit rate (%)" in titles and "Database connections against the limit" in titles


def test_a_metric_no_line_publishes_is_a_problem(template, lines):
    found = problems_of(edited(template, '"PoolCleared"', '"PoolDrained"'), lines)
    named = f"no EMF line publishes {PSEUDO['AWS::StackName']} PoolDrained"
    assert found and all(named in problem for problem in found)


def test_a_dimension_value_no_line_carries_is_a_problem(template, lines):
    body = template["Resources"][dashboard.RESOURCE]["Properties"]["DashboardBody"]["Fn::Sub"]
    function, route = re.search(r'"function","([^"]+)","route","([^"]+)"', body).groups()
    found = problems_of(
        edited(template, f'"function","{function}","route","{route}"', f'"function","{function}","route","/nowhere"'),
        lines,
    )
    assert found and all(f"for {{'function': '{function}', 'route': '/nowhere'}}" in problem for problem in found)


def test_lines_without_the_pool_metrics_fail_the_pool_widgets(template, lines):
    stripped = [
        {**line, "_aws": {**line["_aws"], "CloudWatchMetrics": line["_aws"]["CloudWatchMetrics"][:1]}} for line in lines
    ]
    assert any("PoolCheckoutWait" in problem for problem in problems_of(template, stripped))


def test_an_aws_metric_that_does_not_exist_is_a_problem(template, lines):
    found = problems_of(edited(template, '"Throttles"', '"Throttled"'), lines)
    assert found and all("AWS/Lambda publishes no metric Throttled" in problem for problem in found)


def test_an_aws_metric_with_dimensions_aws_does_not_publish_is_a_problem(template, lines):
    found = problems_of(edited(template, '"Count","ApiName"', '"Count","ApiId"'), lines)
    assert found and all("publishes Count of this stack's REST API with ApiName" in problem for problem in found)


def test_a_function_the_template_does_not_declare_is_a_problem(template, lines):
    found = problems_of(edited(template, "${AuthorizerFunction}", "${OtherFunction}"), lines)
    assert found and all("FunctionName <OtherFunction> is none of the template's functions" in one for one in found)


def test_an_expression_naming_no_metric_is_a_problem(template, lines):
    [problem] = problems_of(edited(template, "auth/requests", "authz/requests"), lines)
    assert "names no metric authz" in problem


def test_a_body_the_template_no_longer_gives_is_a_problem(template, lines):
    changed = copy.deepcopy(template)
    events = next(
        function["Properties"]["Events"]
        for function in samtemplate.functions(changed).values()
        if function["Properties"].get("Events")
    )
    del events[next(iter(events))]
    assert any(
        "run make generate (or python -m tools.checks.dashboard --write)" in problem
        for problem in dashboard.check(changed, lines)
    )


def test_write_rewrites_the_body_in_place_then_leaves_it(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(
        dashboard.SUB_BLOCK.sub(
            lambda found: found.group(1) + "        {}\n", samtemplate.TEMPLATE.read_text(), count=1
        )
    )
    assert dashboard.write(path) is True and dashboard.write(path) is False
    loaded = samtemplate.load(path)
    assert loaded["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"] == dashboard.render(loaded)


def test_the_functions_run_offline_publish_every_metric_the_dashboard_names(template):
    offline = emitted.run_functions(template, PSEUDO["AWS::StackName"])
    assert dashboard.check(template, offline) == []


def test_the_templates_own_dashboard_is_current_and_every_widget_names_a_published_metric(lines):
    assert dashboard.check(samtemplate.load(), lines) == []


def test_an_http_api_dashboard_uses_its_metric_names_and_has_no_authorizer_panels_without_a_function(lines):
    from tools import httpapi

    derived = httpapi.derive(samtemplate.load(), httpapi.JWT)
    panels = {widget["properties"]["title"]: widget["properties"]["metrics"] for widget in dashboard.widgets(derived)}
    assert "Authorizer cache hit rate (%)" not in panels and "Authorizer refusals and failures" not in panels
    assert [row[1:6] for row in panels["API 4xx and 5xx"]] == [
        ["4xx", "ApiId", "${Api}", "Stage", "$default"],
        ["5xx", "ApiId", "${Api}", "Stage", "$default"],
    ]
    assert dashboard.check(derived, lines) == []


@pytest.mark.parametrize("flavour", ["jwt", "lambda"])
def test_every_http_api_panel_has_a_metric(flavour):
    from tools import httpapi

    derived = httpapi.derive(samtemplate.load(), {"jwt": httpapi.JWT, "lambda": httpapi.LAMBDA}[flavour])
    assert [
        widget["properties"]["title"] for widget in dashboard.widgets(derived) if not widget["properties"]["metrics"]
    ] == []


def test_an_empty_panel_is_a_problem(template, lines):
    broken = edited(
        template,
        '"title":"Handled 500s per route","region":"${AWS::Region}","view":"timeSeries",'
        '"period":60,"stat":"Sum","metrics":[[',
        '"title":"Handled 500s per route","metrics":[],"x":[[',
    )
    assert (
        "dashboard widget 'Handled 500s per route' has no metric, so it stays empty: give it one, or drop it"
        in dashboard.check(broken, lines)
    )
