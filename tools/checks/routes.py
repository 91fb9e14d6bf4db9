"""One declaration per route: the routers of handlers/, and everything make lint checks against them.

A route is declared once, where it is served: ``@router.get("/users/{user_id}")``
in its handler module, with ``public=True`` when it needs no token. The template's
``Handler`` (``handlers.users.lambda_handler``) maps the module to its function.
The rest is derived from the declaration and checked against it:

- template.yaml: a function for every handler module; one Api event per route,
  behind the authorizer unless public; one ``OPTIONS`` event per path, without
  it (a browser's preflight carries no token); an ``AWS/Lambda`` ``Errors`` alarm
  on every function but the authorizer;
- openapi.yaml: one operation per route, ``security: []`` exactly on the public
  ones, and every path parameter described;
- events/: at least one REST API event per route, each one consistent with itself.

Each problem says what to add, to which file and under which key, with the block to paste.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import yaml

from shared.router import compile_template
from tools import samtemplate
from tools.checks import envvars, imports
from tools.checks.intrinsics import Evaluator, Unevaluable
from tools.checks.snippets import addition

ROOT = Path(__file__).resolve().parent.parent.parent
HANDLERS = ROOT / "handlers"
OPENAPI = ROOT / "openapi.yaml"
EVENTS = ROOT / "events"
PREFLIGHT = "OPTIONS"
TEMPLATE_FILE = "template.yaml"
OPENAPI_FILE = "openapi.yaml"
# What an integration URI invokes, once evaluated: ...:lambda:path/2015-03-31/functions/<MeFunctionAliaslive>/...
INVOKED = re.compile(r":lambda:path/2015-03-31/functions/<(?P<target>[^>]+)>/invocations$")


@dataclass(frozen=True)
class Declared:
    """One route as its router declares it."""

    method: str
    path: str
    public: bool
    module: str  # the handler module, such as handlers.users
    endpoint: str  # the endpoint's name, such as read_user
    summary: str = ""  # the first line of the endpoint's docstring

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class DeclarationError(Exception):
    """A handler module cannot be imported, so its routes cannot be read."""


def declared_routes(folder: Path = HANDLERS) -> list[Declared]:
    """Every route the routers of ``handlers/`` declare, module by module, in declaration order."""
    found = []
    for path in sorted(folder.glob("[!_]*.py")):
        try:
            module = importlib.import_module(f"handlers.{path.stem}")
        except Exception as exc:
            raise DeclarationError(f"handlers/{path.name} does not import ({type(exc).__name__}: {exc}), so its "
                                   f"routes cannot be checked: fix it, then run the checks again") from None
        for route in getattr(getattr(module, "router", None), "routes", []):
            summary = (route.endpoint.__doc__ or route.endpoint.__name__.replace("_", " ")).strip().splitlines()[0]
            found.append(Declared(route.method, route.template, route.public, module.__name__,
                                  route.endpoint.__name__, summary))
    return found


def preflights(routes: list[Declared]) -> list[Declared]:
    """One public ``OPTIONS`` route per declared path, in the module that serves the path."""
    first: dict[str, Declared] = {}
    for route in routes:
        first.setdefault(route.path, route)
    return [Declared(PREFLIGHT, path, True, route.module, "preflight", f"CORS preflight of {path}")
            for path, route in first.items()]


def camel(text: str) -> str:
    """``read_avatar`` -> ``ReadAvatar``; ``/users/{user_id}`` -> ``UsersUserId``."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", text))


def suggested_function(module: str) -> str:
    """The logical id a new function for ``module`` gets: ``handlers.ping`` -> ``PingFunction``."""
    return camel(module.rpartition(".")[2]) + "Function"


def handler_module(function: dict) -> str:
    """``handlers.users`` for a function whose ``Handler`` is ``handlers.users.lambda_handler``."""
    return str(function.get("Properties", {}).get("Handler", "")).rpartition(".")[0]


def functions_by_module(template: dict) -> dict[str, str]:
    """``{handler module: function logical id}``, as the template's ``Handler`` properties map them."""
    return {handler_module(function): name for name, function in samtemplate.functions(template).items()}


def planned_functions(template: dict, routes: list[Declared]) -> dict[str, str]:
    """``{module: function}`` for every module that declares routes: its function, or the one it should get."""
    deployed = functions_by_module(template)
    return {route.module: deployed.get(route.module, suggested_function(route.module)) for route in routes}


def check_declarations(routes: list[Declared]) -> list[str]:
    """Each route declared once, and all the methods of a path in one module (whose function answers OPTIONS)."""
    found, seen, modules = [], {}, {}
    for route in routes:
        if route.key in seen:
            found.append(f"{route} is declared twice, by {seen[route.key].module}.{seen[route.key].endpoint} and "
                         f"{route.module}.{route.endpoint}: keep one")
        seen.setdefault(route.key, route)
        modules.setdefault(route.path, []).append(route.module)
    for path, serving in modules.items():
        if len(set(serving)) > 1:
            found.append(f"{path} is served by {', '.join(sorted(set(serving)))}: keep every method of a path in one "
                         f"handler module, whose function also answers the path's OPTIONS preflight")
    return found


# The template: functions, Api events and error alarms.

def template_routes(cfn: dict, evaluator: Evaluator) -> list[tuple[str, str, str, bool]]:
    """``(method, path, function, authorized)`` for every operation of the REST API body SAM makes."""
    resources = cfn.get("Resources", {})
    functions = sorted((name for name, resource in resources.items()
                        if resource.get("Type") == "AWS::Lambda::Function"), key=len, reverse=True)

    def invoked(uri: str) -> str:  # MeFunctionAliaslive (the alias), MeFunction.Arn -> MeFunction
        found = INVOKED.search(uri)
        target = found.group("target") if found else uri
        return next((name for name in functions if target == name or target.startswith((f"{name}Alias", f"{name}."))),
                    target)

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


def rest_api_id(template: dict):
    """What the template's Api events give as ``RestApiId`` (``!Ref Api``); None when it has no API."""
    for function in samtemplate.functions(template).values():
        for event in function.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") == "Api" and "RestApiId" in event.get("Properties", {}):
                return event["Properties"]["RestApiId"]
    apis = [name for name, resource in template.get("Resources", {}).items()
            if resource.get("Type") == "AWS::Serverless::Api"]
    return {"Ref": apis[0]} if apis else None


def api_event(template: dict, route: Declared) -> dict:
    """The Api event that routes ``route`` to its function."""
    properties = {"RestApiId": rest_api_id(template), "Path": route.path, "Method": route.method}
    if properties["RestApiId"] is None:
        del properties["RestApiId"]
    if route.public:
        properties["Auth"] = {"Authorizer": "NONE"}
    return {"Type": "Api", "Properties": properties}


def api_events(template: dict, routes: list[Declared], taken: set[str]) -> dict[str, dict]:
    """``{event name: Api event}`` for ``routes``, named after their endpoints (preflights after their paths)."""
    events = {}
    for route in routes:
        base = "Preflight" + camel(route.path) if route.method == PREFLIGHT else camel(route.endpoint)
        name, number = base, 2
        while name in taken or name in events:
            name, number = f"{base}{number}", number + 1
        events[name] = api_event(template, route)
    return events


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
            why = ("(the CORS preflight every path needs, without the authorizer)" if route.method == PREFLIGHT
                   else f"(declared in {route.module})")
            found.append(addition(f"{route} {why} has no Api event", TEMPLATE_FILE, events_key,
                                  api_events(template, [route], event_names(template, function))))
        elif len(matching) > 1:
            found.append(f"{route} has {len(matching)} Api events ({', '.join(names.get(route.key, []))}): "
                         f"keep exactly one, in {function}")
        elif matching[0][2:] != (function, not route.public):
            problem = (f"{route} must go to {function} {guard}, but the template sends it to {matching[0][2]} "
                       f"{'behind' if matching[0][3] else 'without'} the authorizer")
            event = (names.get(route.key) or ["its event"])[0]
            if event.startswith(".".join(events_key) + "."):
                found.append(addition(problem, TEMPLATE_FILE, events_key,
                                      {event.rpartition(".")[2]: api_event(template, route)}, "replace the event in"))
            else:
                found.append(addition(f"{problem}: remove {event}, then", TEMPLATE_FILE, events_key,
                                      api_events(template, [route], event_names(template, function))))
    for method, path, function, _ in deployed:
        if (method, path) not in wanted:
            events = ", ".join(names.get((method, path), [])) or f"its event in {function}"
            found.append(f"the template routes {method} {path} to {function}, but no router declares it: remove "
                         f"{events}, or declare the route in its handler module (@router.route({method!r}, {path!r}))")
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


def keep_what_the_code_reads(template: dict, properties: dict, module: str) -> None:
    """Drop the variables ``module``'s code does not need (see envvars), and the policies only they needed."""
    try:
        modules = imports.closure(module).modules
    except imports.ImportAnalysisError:
        return
    read = envvars.reads(modules)

    def needed(name: str) -> bool:
        required_with = envvars.REQUIRED_WITH_MODULE.get(name)
        return required_with in modules if required_with else name in read

    variables = properties.get("Environment", {}).get("Variables", {})
    kept = {name: value for name, value in variables.items() if needed(name)}
    parameters = set(template.get("Parameters", {}))
    referenced, kept_references = _refs(variables) & parameters, _refs(kept) & parameters

    def policy_needed(policy) -> bool:
        named = _refs(policy) & parameters
        if named & referenced:  # about a variable's value, such as reading the secret MONGODB_URI names
            return bool(named & kept_references)
        return not named or bool(kept_references)  # what reading any secret needs (its KMS key), or general

    policies = [policy for policy in properties.get("Policies", []) if policy_needed(policy)]
    if kept:
        properties["Environment"]["Variables"] = kept
    else:
        properties.pop("Environment", None)
    if policies:
        properties["Policies"] = policies
    else:
        properties.pop("Policies", None)


def function_resource(template: dict, module: str, name: str, routes: list[Declared], alarms: dict[str, str]) -> dict:
    """A function for ``module``, modelled on an existing API function, with the Api events of ``routes``."""
    model = model_function(template, alarms)
    if model is None:
        resource = {"Type": "AWS::Serverless::Function",
                    "Properties": {"CodeUri": f"build/{name}.zip", "Handler": f"{module}.lambda_handler"}}
    else:
        resource = renamer(template, model, name, module)(template["Resources"][model])
        keep_what_the_code_reads(template, resource["Properties"], module)
    resource["Properties"]["Events"] = api_events(template, routes + preflights(routes), set())
    return resource


def own_parameters(template: dict, model: str, function: str, module: str) -> dict[str, dict]:
    """The parameters named after ``model`` that it refers to (``HealthFunctionRevision``), renamed for ``function``."""
    rename, parameters = renamer(template, model, function, module), template.get("Parameters", {})
    return {rename(name): rename(parameters[name]) for name in sorted(_refs(template["Resources"][model]))
            if name in parameters and rename(name) not in parameters}


def check_functions(template: dict, routes: list[Declared], alarms: dict[str, str]) -> list[str]:
    """Every module that declares routes is the Handler of a function."""
    found = []
    model = model_function(template, alarms)
    for module, function in planned_functions(template, routes).items():
        if function in samtemplate.functions(template):
            continue
        served = [route for route in routes if route.module == module]
        found.append(addition(
            f"{module} declares {', '.join(map(str, served))}, but no function in {TEMPLATE_FILE} has Handler: "
            f"{module}.lambda_handler", TEMPLATE_FILE, ["Resources"],
            {function: function_resource(template, module, function, served, alarms)})
            + (f"\n(modelled on {model}, keeping only the variables and policies the code of {module} needs)"
               if model else ""))
        parameters = own_parameters(template, model, function, module) if model else {}
        if parameters:
            found.append(addition(f"{function} refers to parameters of its own, as {model} does", TEMPLATE_FILE,
                                  ["Parameters"], parameters))
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
        metrics = [properties] + [query.get("MetricStat", {}).get("Metric", {})
                                  for query in properties.get("Metrics", []) if isinstance(query, dict)]
        for metric in metrics:
            try:
                if (evaluator.value(metric.get("Namespace")), evaluator.value(metric.get("MetricName"))) != (
                        "AWS/Lambda", "Errors"):
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
    return f"{function.removesuffix('Function')}ErrorsAlarm", {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": f"the {module.rpartition('.')[2]} function crashed or timed out",
        "Namespace": "AWS/Lambda", "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}], "Statistic": "Sum", "Period": 60,
        "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching"}}


def check_alarms(template: dict, routes: list[Declared], alarms: dict[str, str]) -> list[str]:
    """Every function but the authorizer (whose refusals are Lambda errors) has its own error alarm."""
    found = []
    modules = {function: module for module, function in functions_by_module(template).items()}
    modules.update({function: module for module, function in planned_functions(template, routes).items()})
    for function, module in modules.items():
        if function == authorizer_name(template) or function in alarms:
            continue
        name, alarm = alarm_resource(template, function, module, alarms)
        found.append(addition(f"{function} has no error alarm of its own (AWS/Lambda Errors on its FunctionName), so "
                              f"its crashes and timeouts alert no one and roll no deployment back", TEMPLATE_FILE,
                              ["Resources"], {name: alarm}))
        preference = template.get("Resources", {}).get(function, {}).get("Properties", {}).get("DeploymentPreference")
        if preference is not None and name not in _refs(preference):
            found[-1] += f"\nthen list !Ref {name} in {function}'s DeploymentPreference.Alarms, as the others do"
    return found


# openapi.yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def documented(description: dict) -> dict[tuple[str, str], dict]:
    """Each operation of an OpenAPI description by ``(METHOD, path)``."""
    return {(method.upper(), path): operation for path, item in description.get("paths", {}).items()
            for method, operation in item.items() if method in METHODS}


def path_parameters(path: str) -> list[str]:
    return re.findall(r"{([^}]+)}", path)


def described_parameter(description: dict, name: str) -> dict:
    """The first description of path parameter ``name`` in the document, else a plain string one."""
    for operation in documented(description).values():
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path" and parameter.get("name") == name:
                return copy.deepcopy(parameter)
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def uses_database(module: str) -> bool:
    try:
        return "shared.db" in imports.closure(module).modules
    except imports.ImportAnalysisError:
        return True


def operation(route: Declared, description: dict) -> dict:
    """An OpenAPI operation for ``route``: its parameters and the answers the project's code can give."""
    known = description.get("components", {}).get("responses", {})

    def answer(name: str) -> dict:
        return {"$ref": f"#/components/responses/{name}"} if name in known else {"description": name}

    success = {"description": route.summary}
    if route.method != "DELETE":
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses = {"204" if route.method == "DELETE" else "200": success}
    parameters = [described_parameter(description, name) for name in path_parameters(route.path)]
    if parameters or route.method in ("POST", "PUT", "PATCH"):
        responses["400"] = answer("BadRequest")
    if not route.public:
        responses.update({"401": answer("Unauthorized"), "403": answer("Forbidden")})
    if parameters:
        responses["404"] = answer("Problem")
    if uses_database(route.module):
        responses["503"] = answer("ServiceUnavailable")
    result = {"operationId": route.endpoint.split("_")[0] + camel("_".join(route.endpoint.split("_")[1:])),
              "summary": route.summary}
    if parameters:
        result["parameters"] = parameters
    result["responses"] = responses
    if route.public:
        result["security"] = []
    return result


def check_operation(route: Declared, found: dict, description: dict) -> list[str]:
    """The operation's guard and path parameters against the route's declaration."""
    problems = []
    where = f"paths.{route.path}.{route.method.lower()}"
    guarded = bool(found.get("security", description.get("security", [])))
    if route.public and guarded:
        problems.append(f"{OPENAPI_FILE} says {route} needs a token, but its router declares it public: set "
                        f"security: [] on {where}")
    if not route.public and not guarded:
        problems.append(f"{OPENAPI_FILE} says {route} needs no token, but its router does not declare it public: "
                        f"remove security from {where} (or declare the route with public=True)")
    described = [parameter.get("name") for parameter in found.get("parameters", []) if parameter.get("in") == "path"]
    missing = [described_parameter(description, name) for name in path_parameters(route.path)
               if name not in described]
    keys = ["paths", route.path, route.method.lower()]
    if missing and "parameters" in found:
        problems.append(addition(f"{OPENAPI_FILE} does not describe the path parameters of {route}", OPENAPI_FILE,
                                 [*keys, "parameters"], missing))
    elif missing:
        problems.append(addition(f"{OPENAPI_FILE} does not describe the path parameters of {route}", OPENAPI_FILE,
                                 keys, {"parameters": missing}))
    for name in described:
        if name not in path_parameters(route.path):
            problems.append(f"{OPENAPI_FILE} describes a path parameter {name} on {route}, whose path has none of "
                            f"that name: remove it from {where}.parameters")
    return problems


def check_openapi(routes: list[Declared], description: dict | None = None) -> list[str]:
    """openapi.yaml has exactly the declared routes, each guarded as declared, path parameters described."""
    if description is None:
        try:
            description = yaml.safe_load(OPENAPI.read_text())
        except (OSError, yaml.YAMLError) as exc:
            return [f"{OPENAPI_FILE} cannot be read as YAML ({exc}): fix it, then run the checks again"]
    operations = documented(description)
    found = []
    for route in routes:
        if route.key in operations:
            found += check_operation(route, operations[route.key], description)
        elif route.path in description.get("paths", {}):
            found.append(addition(f"{OPENAPI_FILE} does not describe {route}", OPENAPI_FILE, ["paths", route.path],
                                  {route.method.lower(): operation(route, description)}))
        else:
            found.append(addition(f"{OPENAPI_FILE} does not describe {route}", OPENAPI_FILE, ["paths"],
                                  {route.path: {route.method.lower(): operation(route, description)}}))
    declared = {route.key for route in routes}
    for method, path in operations:
        if (method, path) not in declared:
            found.append(f"{OPENAPI_FILE} describes {method} {path}, which no router declares: remove "
                         f"paths.{path}.{method.lower()}, or declare the route")
    return found


# events/

def event_files(folder: Path = EVENTS) -> dict[str, dict]:
    """``{"events/...json": event}`` for every API Gateway proxy event file (authorizer events left out)."""
    found = {}
    for path in sorted(folder.rglob("*.json")):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            event = None  # make invoke names what is wrong with it
        if isinstance(event, dict) and event.get("type") not in ("TOKEN", "REQUEST") and "routeArn" not in event:
            found[str(path.relative_to(folder.parent))] = event
    return found


def event_route(event: dict) -> tuple[str, str, str]:
    """``(method, route path, request path)`` of a REST API (1.0) or HTTP API (2.0) proxy event."""
    if event.get("version") == "2.0":
        method, _, path = str(event.get("routeKey", "")).partition(" ")
        return method, path, str(event.get("rawPath", ""))
    return str(event.get("httpMethod", "")), str(event.get("resource", "")), str(event.get("path", ""))


def check_event(name: str, event: dict, declared: set[tuple[str, str]]) -> list[str]:
    """An event file is for a declared route, and its path, parameters and request context agree with it."""
    method, route_path, path = event_route(event)
    rest = event.get("version") != "2.0"
    fields = "its httpMethod and resource" if rest else "its routeKey"
    if (method, route_path) not in declared:
        return [f"{name} is an event for {method} {route_path} ({fields}), which no router declares: point it at a "
                f"declared route, or delete it"]
    matched = compile_template(route_path).match(path)
    if matched is None:
        return [f"{name}: its path {path!r} does not fit {route_path}: set {'path' if rest else 'rawPath'} to a "
                f"path that does"]
    problems = []
    parameters = {key: unquote(value) for key, value in matched.groupdict().items()} or None
    if event.get("pathParameters") != parameters:
        problems.append(f"{name}: its pathParameters are {json.dumps(event.get('pathParameters'))}, but its path "
                        f"{path} gives {json.dumps(parameters)}: set \"pathParameters\": {json.dumps(parameters)}")
    context = event.get("requestContext") or {}
    if rest:
        for key, want in (("httpMethod", method), ("resourcePath", route_path)):
            if key in context and context[key] != want:
                problems.append(f"{name}: requestContext.{key} is {context[key]!r}, but the event is for {want!r}: "
                                f"set it to {want!r}")
        if "path" in context and not str(context["path"]).endswith(path):
            problems.append(f"{name}: requestContext.path {context['path']!r} is not the stage and {path!r}: set it "
                            f"to \"/{context.get('stage', 'dev')}{path}\"")
    return problems


def _likeness(route: Declared, other: Declared, event: dict) -> tuple:
    """How little of an event for ``other`` changes for ``route``: same function, guard, method, no query, path."""
    shared_segments = 0
    for mine, theirs in zip(route.path.split("/"), other.path.split("/"), strict=False):
        if mine != theirs:
            break
        shared_segments += 1
    return (other.module == route.module, other.public == route.public, other.method == route.method,
            not event.get("queryStringParameters"), shared_segments)


def suggested_event_file(route: Declared, taken: set[str]) -> str:
    words = [part for part in route.path.strip("/").split("/") if part and not part.startswith("{")] or ["root"]
    base = "events/" + "-".join(words) + ("" if route.method == "GET" else f"-{route.method.lower()}")
    name, number = f"{base}.json", 2
    while name in taken:
        name, number = f"{base}-{number}.json", number + 1
    return name


def missing_event(route: Declared, routes: list[Declared], events: dict[str, dict]) -> str:
    """What to copy, where, and what to set in the copy, for a route without a REST API event."""
    problem = f"{route} has no REST API event in events/ (make invoke, the benchmark and the tests run each one)"
    by_key = {declared.key: declared for declared in routes}
    models = [(name, by_key[event_route(event)[:2]]) for name, event in events.items()
              if event.get("version") != "2.0" and event_route(event)[:2] in by_key]
    if not models:
        return f"{problem}: write one as API Gateway sends it to a Lambda proxy integration (payload format 1.0)"
    name, model = max(models, key=lambda pair: _likeness(route, pair[1], events[pair[0]]))  # first of equals
    event = events[name]
    values = event.get("pathParameters") or {}
    path = re.sub(r"{([^}]+)}", lambda found: values.get(found.group(1), "example"), route.path)
    parameters = {key: values.get(key, "example") for key in path_parameters(route.path)} or None
    stage = (event.get("requestContext") or {}).get("stage", "dev")
    fields = {"httpMethod": route.method, "resource": route.path, "path": path, "pathParameters": parameters,
              "requestContext": {"httpMethod": route.method, "resourcePath": route.path, "path": f"/{stage}{path}"}}
    if event.get("queryStringParameters"):
        fields.update(queryStringParameters=None, multiValueQueryStringParameters=None)
    if route.method in ("GET", "DELETE") and event.get("body") is not None:
        fields["body"] = None
    advice = ""
    if model.public and not route.public:
        advice = "; it needs a token too: copy the Authorization header and requestContext.authorizer of events/me.json"
    elif route.public and not model.public:
        advice = "; it needs no token: remove its Authorization header and requestContext.authorizer"
    return (f"{problem}: copy {name} ({model}) to {suggested_event_file(route, set(events))} and set in the copy "
            f"{json.dumps(fields)}{advice}")


def check_event_files(routes: list[Declared], events: dict[str, dict] | None = None) -> list[str]:
    """Every event file is consistent and for a declared route; every route has a REST API (1.0) event."""
    events = event_files() if events is None else events
    declared = {route.key for route in routes}
    found = [problem for name, event in events.items() for problem in check_event(name, event, declared)]
    covered = {event_route(event)[:2] for event in events.values() if event.get("version") != "2.0"}
    found += [missing_event(route, routes, events) for route in routes if route.key not in covered]
    return found


def check(template: dict, cfn: dict, evaluator: Evaluator) -> list[str]:
    """Every problem between the routers' declarations and the template, openapi.yaml and events/."""
    try:
        routes = declared_routes()
    except DeclarationError as exc:
        return [str(exc)]
    alarms = error_alarms(cfn, evaluator)
    return (check_declarations(routes) + check_functions(template, routes, alarms)
            + check_template_events(template, cfn, evaluator, routes) + check_alarms(template, routes, alarms)
            + check_openapi(routes) + check_event_files(routes))
