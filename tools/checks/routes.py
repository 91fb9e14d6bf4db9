"""The template against the routes the routers declare (see :mod:`tools.checks.declarations`).

- a function for every handler module that declares routes;
- one Api event per route, behind the authorizer unless public, and one
  ``OPTIONS`` event per path without it (a browser's preflight carries no token);
- an ``AWS/Lambda`` ``Errors`` alarm on every function but the authorizer.

:func:`check` runs these, then the checks of openapi.yaml (:mod:`tools.checks.openapi`)
and of events/ (:mod:`tools.checks.event_files`). What ``make generate`` writes (a
function, its events, alarms and parameter; openapi.yaml; events/) is asked of it in one
line; a hand edit it would not repair (an event sent elsewhere, an alarm's scope) says
what to change, with the block to write where one helps.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tools import samtemplate, template_functions
from tools.checks import event_files, openapi
from tools.checks.declarations import (
    PREFLIGHT,
    DeclarationError,
    Declared,
    check_declarations,
    declared_routes,
    functions_by_module,
    handler_module,
    planned_functions,
    preflights,
    template_problem,
)
from tools.checks.snippets import addition
from tools.samtemplate import Evaluator, Unevaluable

TEMPLATE_FILE = "template.yaml"
# What an integration URI invokes, once evaluated: ...:lambda:path/2015-03-31/functions/<MeFunctionAliaslive>/...
INVOKED = re.compile(r":lambda:path/2015-03-31/functions/<(?P<target>[^>]+)>/invocations$")


def template_routes(cfn: dict, evaluator: Evaluator) -> list[tuple[str, str, str, bool]]:
    """``(method, path, function, authorized)`` for every operation of the REST API body SAM makes."""
    resources = cfn.get("Resources", {})
    functions = sorted(
        (name for name, resource in resources.items() if resource.get("Type") == "AWS::Lambda::Function"),
        key=len,
        reverse=True,
    )

    def invoked(uri: str) -> str:  # MeFunctionAliaslive (the alias), MeFunction.Arn -> MeFunction
        found = INVOKED.search(uri)
        target = found.group("target") if found else uri
        return next(
            (name for name in functions if target == name or target.startswith((f"{name}Alias", f"{name}."))), target
        )

    routes = []
    for resource in resources.values():
        if resource.get("Type") != "AWS::ApiGateway::RestApi":
            continue
        for path, operations in resource.get("Properties", {}).get("Body", {}).get("paths", {}).items():
            for method, operation in operations.items():
                uri = str(evaluator.value(operation.get("x-amazon-apigateway-integration", {}).get("uri", "")))
                security = [name for requirement in operation.get("security", []) for name in requirement]
                routes.append((method.upper(), path, invoked(uri), bool(security) and security != ["NONE"]))
    return routes


def source_events(template: dict) -> dict[tuple[str, str], list[str]]:
    """``{(method, path): ["Function.Properties.Events.Name", ...]}`` for the Api events of the template."""
    found: dict[tuple[str, str], list[str]] = {}
    for name, function in samtemplate.functions(template).items():
        for event_name, event in function.get("Properties", {}).get("Events", {}).items():
            properties = event.get("Properties", {})
            if event.get("Type") == "Api":
                key = (str(properties.get("Method", "")).upper(), properties.get("Path", ""))
                found.setdefault(key, []).append(f"Resources.{name}.Properties.Events.{event_name}")
    return found


def event_names(template: dict, function: str) -> set[str]:
    return set(template.get("Resources", {}).get(function, {}).get("Properties", {}).get("Events", {}))


def check_template_events(template: dict, cfn: dict, evaluator: Evaluator, routes: list[Declared]) -> list[str]:
    """Every declared route and preflight has exactly one Api event, to its function, with the right auth."""
    found = []
    deployed = template_routes(cfn, evaluator)
    names = source_events(template)
    functions = functions_by_module(template)
    wanted = {route.key: route for route in routes + preflights(routes)}
    for route in wanted.values():
        function = functions.get(route.module)
        if function is None:
            continue  # check_functions asks for the whole function, its events included
        matching = [target for target in deployed if target[:2] == route.key]
        guard = "without the authorizer" if route.public else "behind the authorizer"
        events_key = ["Resources", function, "Properties", "Events"]
        if not matching:
            why = (
                "(the CORS preflight every path needs, without the authorizer)"
                if route.method == PREFLIGHT
                else f"(declared in {route.module})"
            )
            (event,) = template_functions.api_events(template, [route], event_names(template, function))
            found.append(
                f"{route} {why} has no Api event: run make generate, which writes it into "
                f"{'.'.join(events_key)} as {event}"
            )
        elif len(matching) > 1:
            found.append(
                f"{route} has {len(matching)} Api events ({', '.join(names.get(route.key, []))}): "
                f"keep exactly one, in {function}"
            )
        elif matching[0][2:] != (function, not route.public):
            problem = (
                f"{route} must go to {function} {guard}, but the template sends it to {matching[0][2]} "
                f"{'behind' if matching[0][3] else 'without'} the authorizer"
            )
            event = (names.get(route.key) or ["its event"])[0]
            if event.startswith(".".join(events_key) + "."):
                found.append(
                    addition(
                        problem,
                        TEMPLATE_FILE,
                        events_key,
                        {event.rpartition(".")[2]: template_functions.api_event(template, route)},
                        "replace the event in",
                    )
                )
            else:
                found.append(
                    addition(
                        f"{problem}: remove {event}, then",
                        TEMPLATE_FILE,
                        events_key,
                        template_functions.api_events(template, [route], event_names(template, function)),
                    )
                )
    for method, path, function, _ in deployed:
        if (method, path) not in wanted:
            events = ", ".join(names.get((method, path), [])) or f"its event in {function}"
            found.append(
                f"the template routes {method} {path} to {function}, but no router declares it: remove "
                f"{events}, or declare the route in its handler module (@router.route({method!r}, {path!r}))"
            )
    return found


def authorizer_name(template: dict) -> str:
    try:
        return samtemplate.authorizer_function(template)[0]
    except LookupError:
        return ""


def model_function(template: dict, alarms: dict[str, str]) -> str | None:
    """The API function a new one is modelled on: the first with an error alarm, else the first at all."""
    candidates = [name for name in samtemplate.functions(template) if name != authorizer_name(template)]
    with_alarm = [name for name in candidates if name in alarms]
    return (with_alarm or candidates or [None])[0]


def renamed(value, old_function: str, new_function: str, old_module: str, new_module: str):
    """``value`` with every name derived from the old function and module replaced by the new ones.

    ``UsersFunction``, ``UsersErrorsAlarm``, ``${UsersFunction}:live`` -> ``Ping...``; ``handlers.users`` and
    "the users function" -> ``handlers.ping``, "the ping function".
    """
    if isinstance(value, dict):
        return {key: renamed(item, old_function, new_function, old_module, new_module) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item, old_function, new_function, old_module, new_module) for item in value]
    if not isinstance(value, str):
        return value
    old_base, new_base = old_function.removesuffix("Function"), new_function.removesuffix("Function")
    value = re.sub(rf"(?<![A-Za-z0-9]){re.escape(old_base)}(?=[A-Z])", new_base, value)
    old_stem, new_stem = old_module.rpartition(".")[2], new_module.rpartition(".")[2]
    return re.sub(rf"\b{re.escape(old_stem)}\b", new_stem, value)


def renamer(template: dict, model: str, function: str, module: str) -> Callable:
    """What renames a copy of what belongs to the function ``model`` for ``function`` and its ``module``."""
    model_module = handler_module(template["Resources"][model])
    return lambda value: renamed(value, model, function, model_module, module)


def _refs(value) -> set[str]:
    if isinstance(value, dict):
        return {value["Ref"]} if isinstance(value.get("Ref"), str) else set().union(*map(_refs, value.values()))
    if isinstance(value, list):
        return set().union(*map(_refs, value))
    return set()


def check_functions(template: dict, routes: list[Declared]) -> list[str]:
    """Every module that declares routes is the Handler of a function, which ``make generate`` writes
    (:mod:`tools.template_functions`): nothing to paste."""
    found = []
    for module, function in planned_functions(template, routes).items():
        if function in samtemplate.functions(template):
            continue
        served = [route for route in routes if route.module == module]
        found.append(
            f"{module} declares {', '.join(map(str, served))}, but no function in {TEMPLATE_FILE} has Handler: "
            f"{module}.lambda_handler: run make generate, which writes {function} with its events, its version "
            f"parameter and its alarms"
        )
    return found


def error_alarms(cfn: dict, evaluator: Evaluator) -> dict[str, str]:
    """``{function: alarm}`` for every ``AWS/Lambda`` ``Errors`` alarm whose ``FunctionName`` is a function.

    Other dimensions (``Resource`` for an alias, ``ExecutedVersion``) may narrow it; a metric-math alarm
    counts through its ``Metrics[].MetricStat.Metric``.
    """
    found = {}
    for name, alarm in cfn.get("Resources", {}).items():
        if alarm.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        properties = alarm.get("Properties", {})
        metrics = [properties] + [
            query.get("MetricStat", {}).get("Metric", {})
            for query in properties.get("Metrics", [])
            if isinstance(query, dict)
        ]
        for metric in metrics:
            try:
                if (evaluator.value(metric.get("Namespace")), evaluator.value(metric.get("MetricName"))) != (
                    "AWS/Lambda",
                    "Errors",
                ):
                    continue
                for dimension in metric.get("Dimensions", []):
                    if dimension.get("Name") == "FunctionName":
                        found.setdefault(str(evaluator.value(dimension.get("Value"))).strip("<>"), name)
            except Unevaluable:
                continue
    return found


def alarm_resource(template: dict, function: str, module: str, alarms: dict[str, str]) -> tuple[str, dict]:
    """``(name, alarm)``: the model function's error alarm for ``function``, or a plain one without a model."""
    model = model_function(template, alarms)
    if model in alarms and alarms[model] in template.get("Resources", {}):
        rename = renamer(template, model, function, module)
        return rename(alarms[model]), rename(template["Resources"][alarms[model]])
    return f"{function.removesuffix('Function')}ErrorsAlarm", {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"the {module.rpartition('.')[2]} function crashed or timed out",
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
        },
    }


def own_rollback_alarms(template: dict, function: str) -> list[str]:
    """The alarms ``function``'s DeploymentPreference lists that are its own (named after it), such as
    ``MeErrorsAlarm`` and ``MeServerErrorsAlarm``; alarms shared by several functions are left out."""
    resources = template.get("Resources", {})
    preference = resources.get(function, {}).get("Properties", {}).get("DeploymentPreference", {})
    base = function.removesuffix("Function")
    return [
        name
        for name in sorted(_refs(preference))
        if re.match(rf"{re.escape(base)}[A-Z]", name)
        and resources.get(name, {}).get("Type") == "AWS::CloudWatch::Alarm"
    ]


def check_model_alarms(template: dict, function: str, module: str, model: str, error_alarm: str | None) -> list[str]:
    """The model's other rollback alarms (its handled 500s...), renamed for ``function``, where it has none."""
    found = []
    rename = renamer(template, model, function, module)
    for name in own_rollback_alarms(template, model):
        if name == error_alarm or rename(name) in template.get("Resources", {}):
            continue
        found.append(
            addition(
                f"{function} has no {rename(name)}, the alarm {model}'s deployment group rolls back on as {name}",
                TEMPLATE_FILE,
                ["Resources"],
                {rename(name): rename(template["Resources"][name])},
            )
        )
    return found


def check_alarms(template: dict, routes: list[Declared], alarms: dict[str, str]) -> list[str]:
    """Every function but the authorizer has its own error alarm, and the other rollback alarms its model has."""
    found = []
    modules = {function: module for module, function in functions_by_module(template).items()}
    model = model_function(template, alarms)
    for function, module in modules.items():
        if function == authorizer_name(template):
            continue
        if function not in alarms:
            found.append(missing_error_alarm(template, function, module, alarms))
        if model is not None:
            found += check_model_alarms(template, function, module, model, alarms.get(model))
    return found


def missing_error_alarm(template: dict, function: str, module: str, alarms: dict[str, str]) -> str:
    """The problem of a function without its own error alarm, with the alarm to paste."""
    name, alarm = alarm_resource(template, function, module, alarms)
    problem = addition(
        f"{function} has no error alarm of its own (AWS/Lambda Errors on its FunctionName), so its "
        f"crashes and timeouts alert no one and roll no deployment back",
        TEMPLATE_FILE,
        ["Resources"],
        {name: alarm},
    )
    preference = template.get("Resources", {}).get(function, {}).get("Properties", {}).get("DeploymentPreference")
    if preference is not None and name not in _refs(preference):
        problem += f"\nthen list !Ref {name} in {function}'s DeploymentPreference.Alarms, as the others do"
    return problem


def check_template(template: dict, cfn: dict, evaluator: Evaluator, routes: list[Declared]) -> list[str]:
    """The template against the declarations: functions, Api events and alarms (malformed routes said once)."""
    alarms = error_alarms(cfn, evaluator)
    problems = check_declarations(routes)
    routes = [route for route in routes if template_problem(route.path) is None]
    return (
        problems
        + check_functions(template, routes)
        + check_template_events(template, cfn, evaluator, routes)
        + check_alarms(template, routes, alarms)
    )


def check(template: dict, cfn: dict, evaluator: Evaluator) -> list[str]:
    """Every problem between the routers' declarations and the template, openapi.yaml and events/."""
    try:
        routes = declared_routes()
    except DeclarationError as exc:
        return [str(exc)]
    well_formed = [route for route in routes if template_problem(route.path) is None]
    return (
        check_template(template, cfn, evaluator, routes)
        + openapi.check_openapi(well_formed)
        + event_files.check_event_files(well_formed)
    )
