"""The CloudWatch dashboard: its body written from the template's functions, and every widget's metric checked.

``python -m tools.checks.dashboard --write`` (re)writes the ``Dashboard``
resource's body in template.yaml from the functions and routes the template
declares; ``make lint`` checks that the body is up to date and that every
metric a widget names exists: either one AWS publishes (:data:`PUBLISHED`: its
namespace, name and dimension names, with values naming this stack's API,
stage and functions), a metric filter's of the template, or one the functions'
own EMF lines publish, with the dimension values they carry (read from lines
the functions wrote: see :mod:`tools.checks.emitted`).

The panels: API requests, latency p50/p99 (``Latency`` and
``IntegrationLatency``), 4xx/5xx; per function duration, errors, throttles and
concurrency; the cold-start rate and the handled 500s per route; the
authorizer's refusals and failures, and its cache hit rate
(API Gateway publishes none: ``1 - authorizer invocations / API requests`` by
metric math); the pool (checkout wait, connections created, clears) and secret
fetches; the connections the database functions can hold against the
database's limit (their concurrency times the budget's per-container count).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from tools import cli, samtemplate
from tools.checks import budget, sam
from tools.samtemplate import Evaluator

RESOURCE = "Dashboard"
# What AWS publishes, from "Amazon API Gateway dimensions and metrics" (REST APIs) and "Types of metrics for
# Lambda functions" in the AWS documentation: metric names, and the dimension sets each comes with.
_API = (
    {"ApiName"},
    {"ApiName", "Stage"},
    {"ApiName", "Stage", "Resource", "Method"},
    {"ApiId"},
    {"ApiId", "Stage"},
    {"ApiId", "Stage", "Resource", "Method"},
)  # REST APIs; HTTP APIs
# An HTTP API's names for the REST API's metrics (its own docs: "Monitor HTTP API metrics").
HTTP_API_METRICS = {
    "Count": "Count",
    "Latency": "Latency",
    "IntegrationLatency": "IntegrationLatency",
    "4XXError": "4xx",
    "5XXError": "5xx",
}
_LAMBDA = {"FunctionName"}, {"FunctionName", "Resource"}, {"FunctionName", "Resource", "ExecutedVersion"}
PUBLISHED = {
    "AWS/ApiGateway": {
        name: _API
        for name in (
            "Count",
            "Latency",
            "IntegrationLatency",
            "4XXError",
            "5XXError",
            "CacheHitCount",
            "CacheMissCount",
            "4xx",
            "5xx",
            "DataProcessed",
        )
    },
    "AWS/Lambda": {
        **{
            name: _LAMBDA
            for name in ("Invocations", "Errors", "Throttles", "Duration", "ProvisionedConcurrentExecutions")
        },
        "ConcurrentExecutions": (set(), *_LAMBDA),
        "UnreservedConcurrentExecutions": (set(),),
    },
}
EXPRESSION_NAMES = re.compile(r"\b[a-z][A-Za-z0-9_]*\b")
SUB_BLOCK = re.compile(r"(?m)^(      DashboardBody: !Sub \|\n)((?:        .*\n)+)")


def _sub(name: str) -> str:
    """``${name}``: Fn::Sub's placeholder for a parameter, a resource or a pseudo parameter."""
    return "${" + name + "}"


def _metric(namespace: str, name: str, dimensions: dict, **options) -> list:
    row = [namespace, name]
    for key, value in dimensions.items():
        row += [key, value]
    return [*row, options] if options else row


def _widget(title: str, metrics: list, stat: str = "Sum", **properties) -> dict:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "period": 60,
            "stat": stat,
            "metrics": metrics,
            **properties,
        },
    }


def function_dimension(handler: str) -> str:
    """The ``function`` dimension of a handler's lines: its module's last name (``handlers.me`` -> ``me``)."""
    return handler.rpartition(".")[0].rpartition(".")[2]


def _api(template: dict) -> tuple[str, dict]:
    """The API's logical id and its resource (a REST API or an HTTP API)."""
    return next(
        (name, resource)
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")
    )


def _authorizer(template: dict) -> tuple[str, str] | None:
    """The logical id and handler of the API's default Lambda authorizer; None when the API runs none (JWT)."""
    auth = _api(template)[1].get("Properties", {}).get("Auth") or {}
    declared = (auth.get("Authorizers") or {}).get(auth.get("DefaultAuthorizer"), {})
    name = samtemplate.function_of_arn(declared.get("FunctionArn"))
    functions = samtemplate.functions(template)
    return (name, functions[name]["Properties"]["Handler"]) if name in functions else None


def widgets(template: dict) -> list[dict]:
    """The dashboard's widgets for ``template``, with ``${...}`` placeholders for CloudFormation's Fn::Sub.

    An HTTP API's panels use its metric names and dimensions (ApiId, the $default stage); an API with no
    Lambda authorizer (the HTTP API's JWT authorizer) has no authorizer panels.
    """
    namespace = "${AWS::StackName}"
    api_name, api_resource = _api(template)
    http = api_resource["Type"] == "AWS::Serverless::HttpApi"
    api = (
        {"ApiId": _sub(api_name), "Stage": "$default"}
        if http
        else {"ApiName": "${AWS::StackName}", "Stage": "${StageName}"}
    )

    def api_metric(name: str) -> str:
        return HTTP_API_METRICS[name] if http else name

    properties = sam.function_properties(template)
    names = sorted(properties)
    authorizer = _authorizer(template)
    database = [name for name in names if "MONGODB_URI" in properties[name].get("Environment", {}).get("Variables", {})]
    routes = sorted(
        {
            (function, event["Path"])
            for kind in ("Api", "HttpApi")  # either flavour's events
            for function, event in samtemplate.events(template, kind)
            if str(event.get("Method", "")).upper() != "OPTIONS"
        }
    )

    def per_function(metric: str, stat: str, among=names) -> list:
        return [_metric("AWS/Lambda", metric, {"FunctionName": _sub(name)}, label=name, stat=stat) for name in among]

    def per_pool(metric: str, stat: str) -> list:
        return [
            _metric(
                namespace,
                metric,
                {"function": function_dimension(properties[name]["Handler"])},
                label=function_dimension(properties[name]["Handler"]),
                stat=stat,
            )
            for name in database
        ]

    cold = [
        _metric(
            namespace,
            "ColdStart",
            {"function": function_dimension(properties[function]["Handler"]), "route": path},
            id=f"c{index}",
            stat="Average",
            visible=False,
        )
        for index, (function, path) in enumerate(routes)
    ]
    cold += [
        [{"expression": f"100*c{index}", "label": f"{path} %", "id": f"r{index}"}]
        for index, (_, path) in enumerate(routes)
    ]
    per_container = {
        name: budget.per_container(
            {
                key: str(value)
                for key, value in properties[name].get("Environment", {}).get("Variables", {}).items()
                if isinstance(value, str)
            }
        )
        for name in database
    }
    held = [
        _metric(
            "AWS/Lambda",
            "ConcurrentExecutions",
            {"FunctionName": _sub(name)},
            id=f"n{index}",
            stat="Maximum",
            visible=False,
        )
        for index, name in enumerate(database)
    ]
    # FILL: a function that ran no container in a period holds no connections (instead of no data for the sum).
    held.append(
        [
            {
                "expression": " + ".join(
                    f"{per_container[name]}*FILL(n{index}, 0)" for index, name in enumerate(database)
                ),
                "label": "connections per node, worst case",
                "id": "held",
            }
        ]
    )
    panels = [
        # Count: API Gateway's docs read it with SampleCount (each request is one sample).
        _widget(
            "API requests", [_metric("AWS/ApiGateway", api_metric("Count"), api, label="requests", stat="SampleCount")]
        ),
        _widget(
            "API latency (ms)",
            [
                _metric("AWS/ApiGateway", api_metric(metric), api, stat=stat, label=f"{metric} {stat}")
                for metric in ("Latency", "IntegrationLatency")
                for stat in ("p50", "p99")
            ],
        ),
        _widget(
            "API 4xx and 5xx",
            [_metric("AWS/ApiGateway", api_metric(metric), api, label=metric) for metric in ("4XXError", "5XXError")],
        ),
        _widget("Function duration p99 (ms)", per_function("Duration", "p99")),
        _widget("Function errors", per_function("Errors", "Sum")),
        _widget("Function throttles", per_function("Throttles", "Sum")),
        _widget(
            "Function concurrency",
            per_function("ConcurrentExecutions", "Maximum"),
            annotations={"horizontal": [{"label": budget.ACCOUNT_PARAMETER, "value": _sub(budget.ACCOUNT_PARAMETER)}]},
        ),
        _widget("Cold starts (% of requests)", cold),
        _widget(
            "Handled 500s per route",
            [
                _metric(
                    namespace,
                    "ServerErrors",
                    {"function": function_dimension(properties[function]["Handler"]), "route": path},
                    label=path,
                )
                for function, path in routes
            ],
        ),
    ]
    if authorizer is not None:
        function, handler = authorizer
        panels += [
            _widget(
                "Authorizer refusals and failures",
                [
                    _metric(namespace, metric, {"function": function_dimension(handler)}, label=metric)
                    for metric in ("AuthorizerRefusals", "AuthorizerFailures")
                ],
            ),
            _widget(
                "Authorizer cache hit rate (%)",
                [
                    _metric("AWS/Lambda", "Invocations", {"FunctionName": _sub(function)}, id="auth", visible=False),
                    _metric(
                        "AWS/ApiGateway", api_metric("Count"), api, id="requests", stat="SampleCount", visible=False
                    ),
                    [{"expression": "100*(1 - auth/requests)", "label": "cache hits %", "id": "hits"}],
                ],
                yAxis={"left": {"min": 0, "max": 100}},
            ),
        ]
    panels += [
        _widget("Pool checkout wait p99 (ms)", per_pool("PoolCheckoutWait", "p99")),
        _widget(
            "Pool connections created and clears",
            per_pool("PoolConnectionsCreated", "Sum")
            + [
                [*row[:-1], {**row[-1], "label": f"{row[-1]['label']} cleared"}]
                for row in per_pool("PoolCleared", "Sum")
            ],
        ),
        _widget("Secret fetches", per_pool("SecretFetches", "Sum")),
        _widget(
            "Database connections against the limit",
            held,
            annotations={"horizontal": [{"label": "DatabaseConnectionLimit", "value": _sub(budget.LIMIT_PARAMETER)}]},
        ),
    ]
    return panels


def render(template: dict) -> str:
    """The body's text: one widget a line, laid out two a row; ``${...}`` left for Fn::Sub."""
    laid = []
    for index, widget in enumerate(widgets(template)):
        laid.append({**widget, "x": 12 * (index % 2), "y": 6 * (index // 2)})
    text = ",\n".join(json.dumps(widget, separators=(",", ":")) for widget in laid)
    # A number from a parameter: Fn::Sub writes its digits where the quoted placeholder was.
    for number in (budget.LIMIT_PARAMETER, budget.ACCOUNT_PARAMETER):
        text = text.replace(f'"{_sub(number)}"', _sub(number))
    return '{"widgets":[\n' + text + "\n]}\n"


def write(path: Path = samtemplate.TEMPLATE) -> bool:
    """Rewrite the body in the template file; whether it changed. LookupError when there is no body to rewrite."""
    text = path.read_text()
    found = SUB_BLOCK.search(text)
    if found is None:
        raise LookupError(f"{path.name} has no `      DashboardBody: !Sub |` block in its {RESOURCE} resource")
    body = "".join(f"        {line}\n" for line in render(samtemplate.load(path)).splitlines())
    updated = text[: found.start(2)] + body + text[found.end(2) :]
    path.write_text(updated)
    return updated != text


def _body(template: dict, evaluator: Evaluator) -> tuple[str, dict]:
    source = template["Resources"][RESOURCE]["Properties"]["DashboardBody"]
    text = source.get("Fn::Sub") if isinstance(source, dict) else None
    if not isinstance(text, str):
        raise ValueError(f"{RESOURCE}'s DashboardBody must be a !Sub string")
    return text, json.loads(evaluator.sub(text))


def _filter_metrics(template: dict, evaluator: Evaluator) -> set[tuple[str, str, tuple[str, ...]]]:
    found = set()
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Logs::MetricFilter":
            continue
        for transformation in resource.get("Properties", {}).get("MetricTransformations", []):
            keys = tuple(sorted(dimension["Key"] for dimension in transformation.get("Dimensions", [])))
            found.add((str(evaluator.value(transformation["MetricNamespace"])), transformation["MetricName"], keys))
    return found


def _aws_problem(namespace: str, name: str, dimensions: dict, template: dict, evaluator: Evaluator) -> str | None:
    sets = PUBLISHED[namespace].get(name)
    if sets is None:
        return f"{namespace} publishes no metric {name}"
    if set(dimensions) not in [set(each) for each in sets]:
        return f"{namespace} publishes {name} with no dimensions {sorted(dimensions)}"
    api_name, api = _api(template)
    http = api["Type"] == "AWS::Serverless::HttpApi"
    if http:
        expected = {"ApiId": f"<{api_name}>", "Stage": "$default"}
    else:
        expected = {
            "ApiName": str(evaluator.value(api.get("Properties", {}).get("Name"))),
            "Stage": str(evaluator.value(api.get("Properties", {}).get("StageName"))),
        }
    key = "ApiId" if http else "ApiName"
    if namespace == "AWS/ApiGateway" and key not in dimensions:
        return f"{namespace} publishes {name} of this stack's {'HTTP' if http else 'REST'} API with {key}"
    for key, value in dimensions.items():
        if key == "FunctionName" and value.strip("<>") not in samtemplate.functions(template):
            return f"{namespace} {name}: FunctionName {value} is none of the template's functions"
        if key in expected and value != expected[key]:
            return f"{namespace} {name}: {key} {value!r} is not this stack's ({expected[key]!r})"
    return None


def check(template: dict, lines: list[dict], values: dict[str, str] | None = None) -> list[str]:  # noqa: C901 -- independent checks, in the order lint prints them
    """Problems of the dashboard: stale body, a metric nobody publishes, an expression naming no metric."""
    from tools.checks import emitted

    values = values if values is not None else sam.parameter_values(template, {})
    evaluator = Evaluator(template, values)
    if RESOURCE not in template.get("Resources", {}):
        return [
            f"the template has no {RESOURCE} (AWS::CloudWatch::Dashboard): run python -m tools.checks.dashboard "
            f"--write after adding one with a `DashboardBody: !Sub |` block"
        ]
    text, body = _body(template, evaluator)
    found = []
    if text != render(template):
        found.append(
            f"{RESOURCE}'s body is not what the template's functions and routes give: run make generate "
            f"(or python -m tools.checks.dashboard --write)"
        )
    published = emitted.metrics(lines)
    filters = _filter_metrics(template, evaluator)
    for widget in body.get("widgets", []):
        title = widget.get("properties", {}).get("title", "?")
        if widget.get("type") == "metric" and not widget.get("properties", {}).get("metrics"):
            found.append(f"dashboard widget {title!r} has no metric, so it stays empty: give it one, or drop it")
        ids = set()
        for row in widget.get("properties", {}).get("metrics", []):
            options = row[-1] if row and isinstance(row[-1], dict) else {}
            ids.add(options.get("id"))
            if "expression" in options:
                continue
            namespace, name, pairs = row[0], row[1], [item for item in row[2:] if not isinstance(item, dict)]
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            problem = None
            if namespace in PUBLISHED:
                problem = _aws_problem(namespace, name, dimensions, template, evaluator)
            elif (namespace, name, tuple(sorted(dimensions))) in filters:
                pass
            else:
                seen = published.get((namespace, name, tuple(sorted(dimensions))))
                wanted = tuple(value for _, value in sorted(dimensions.items()))
                if seen is None:
                    problem = f"no EMF line publishes {namespace} {name} with the dimensions {sorted(dimensions)}"
                elif wanted not in seen:
                    problem = f"no EMF line publishes {namespace} {name} for {dimensions}"
            if problem:
                found.append(f"dashboard widget {title!r}: {problem}")
        for row in widget.get("properties", {}).get("metrics", []):
            expression = row[-1].get("expression") if row and isinstance(row[-1], dict) else None
            for used in EXPRESSION_NAMES.findall(expression or ""):
                if used not in ids:
                    found.append(f"dashboard widget {title!r}: the expression {expression!r} names no metric {used}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m tools.checks.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the Dashboard body in template.yaml")
    parser.add_argument("--template", type=Path, default=samtemplate.TEMPLATE)
    args = parser.parse_args(argv)
    if args.write:
        changed = write(args.template)
        print(f"{args.template.name}: dashboard body {'rewritten' if changed else 'unchanged'}")
        return 0
    print(render(samtemplate.load(args.template)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
