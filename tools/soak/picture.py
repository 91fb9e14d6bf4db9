"""The dashboard's panels drawn from one run's own lines, as a PNG: what operators will see, seen before deploying.

The panels are the template's ``Dashboard`` widgets (see
tools/checks/dashboard.py), in the same order, with the same metrics and
statistics. A metric the functions publish (their EMF request lines) is
computed from those lines. A metric AWS publishes is drawn from its local
stand-in when there is one: API Gateway's requests, latency and 4xx/5xx from the
local gateway's request lines, a function's ``Duration`` from its request
lines' ``Latency``, the authorizer's invocations from the gateway's cache
misses, a function's concurrency from its requests' spans (each line's time
less its latency). What only AWS measures (throttles, Lambda errors) is named
on its panel instead.

The input is the local gateway's log with ``--logs json``: each function line
as ``HH:MM:SS [Function] {...}``, each request as
``HH:MM:SS GET /me 200 3.1 ms authorizer=hit ...``.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tools import samtemplate
from tools.checks import dashboard, sam
from tools.samtemplate import Evaluator

GATEWAY_LINE = re.compile(
    r"^(\d\d):(\d\d):(\d\d) (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) "
    r"(?P<latency>[\d.]+) ms authorizer=(?P<cache>\S+)"
)
FUNCTION_LINE = re.compile(r"^\d\d:\d\d:\d\d \[(?P<function>\w+)\] (?P<json>\{.*\})$")
BUCKET_SECONDS = 5
TIMESTAMP_RESOLUTION = 0.001  # seconds: EMF's Timestamp is in milliseconds
AWS_ONLY = "published by AWS only"


@dataclass(frozen=True)
class Run:
    """One run's request lines: the functions' (EMF) and the gateway's, each with its second of the day."""

    records: list[tuple[float, dict]]
    requests: list[tuple[float, dict]]

    @property
    def start(self) -> float:
        return min([at for at, _ in self.records] + [at for at, _ in self.requests], default=0.0)


def _second_of_day(hours, minutes, seconds) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


def read_gateway_log(text: str) -> Run:
    """The request lines of a gateway log written with ``--logs json``."""
    import time

    records, requests = [], []
    for line in text.splitlines():
        found = FUNCTION_LINE.match(line)
        if found:
            try:
                record = json.loads(found["json"])
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "_aws" in record:
                milliseconds = record["_aws"]["Timestamp"]
                moment = time.localtime(milliseconds / 1000)
                at = _second_of_day(moment.tm_hour, moment.tm_min, moment.tm_sec) + milliseconds % 1000 / 1000
                records.append((at, record))
            continue
        found = GATEWAY_LINE.match(line)
        if found:
            requests.append(
                (
                    _second_of_day(*found.groups()[:3]),
                    {"status": int(found["status"]), "latency": float(found["latency"]), "cache": found["cache"]},
                )
            )
    return Run(records, requests)


def statistic(values: list[float], stat: str) -> float:
    """CloudWatch's statistic ``stat`` (Sum, Average, Maximum, Minimum, SampleCount, pNN) of ``values``."""
    if not values:
        return math.nan
    if stat == "Sum":
        return sum(values)
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat == "SampleCount":
        return float(len(values))
    if stat.startswith("p"):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, math.ceil(float(stat[1:]) / 100 * len(ordered)) - 1)]
    raise ValueError(f"unknown statistic {stat}")


def _function_dimensions(template: dict) -> dict[str, str]:
    """Each function's logical id -> the ``function`` dimension its lines carry."""
    return {
        name: dashboard.function_dimension(properties["Handler"])
        for name, properties in sam.function_properties(template).items()
    }


def _gateway_samples(run: Run, name: str) -> list[tuple[float, float]] | None:
    """Samples of an ``AWS/ApiGateway`` metric, from the requests the soak made and the functions' lines."""
    if name == "Count":
        return [(at, 1.0) for at, request in run.requests]
    if name == "Latency":
        return [(at, request["latency"]) for at, request in run.requests]
    if name == "IntegrationLatency":
        return [(at, float(record["Latency"])) for at, record in run.records if "Latency" in record]
    if name in ("4XXError", "5XXError"):
        first = name[0]
        return [(at, 1.0 if str(request["status"]).startswith(first) else 0.0) for at, request in run.requests]
    return None


def _lambda_samples(run: Run, template: dict, name: str, function: str) -> list[tuple[float, float]] | None:
    """Samples of an ``AWS/Lambda`` metric of ``function`` (a logical id), from the functions' lines."""
    if name == "Invocations" and function == samtemplate.authorizer_function(template)[0]:
        return [(at, 1.0) for at, request in run.requests if request["cache"] == "miss"]
    dimension = _function_dimensions(template).get(function)
    if name == "Duration":
        return [
            (at, float(record["Latency"]))
            for at, record in run.records
            if record.get("function") == dimension and "Latency" in record
        ]
    if name == "Invocations":
        return [(at, 1.0) for at, record in run.records if record.get("function") == dimension]
    if name == "ConcurrentExecutions":
        return _in_flight(
            [
                (at - float(record["Latency"]) / 1000, at)
                for at, record in run.records
                if record.get("function") == dimension and "Latency" in record
            ]
        )
    return None


def _samples(run: Run, template: dict, row: list) -> list[tuple[float, float]] | None:
    """``(second, value)`` samples of one widget row's metric, or None when only AWS measures it."""
    namespace, name = row[0], row[1]
    pairs = [item for item in row[2:] if not isinstance(item, dict)]
    dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
    if namespace == "AWS/ApiGateway":
        return _gateway_samples(run, name)
    if namespace == "AWS/Lambda":
        return _lambda_samples(run, template, name, dimensions.get("FunctionName", "").strip("<>"))
    return [
        (at, float(record[name]))
        for at, record in run.records
        if name in record and all(str(record.get(key)) == value for key, value in dimensions.items())
    ]


def _in_flight(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """At the end of each ``(start, end)`` span, how many spans were running: the local concurrency.

    A span that starts within :data:`TIMESTAMP_RESOLUTION` of another's end follows it: the lines' times are
    whole milliseconds.
    """
    import bisect

    starts, ends = sorted(start for start, _ in spans), sorted(end for _, end in spans)
    return [
        (end, float(bisect.bisect_left(starts, end - TIMESTAMP_RESOLUTION) - bisect.bisect_left(ends, end)))
        for _, end in spans
    ]


def _bucketed(samples: list[tuple[float, float]], stat: str, start: float, buckets: int) -> list[float]:
    grouped: dict[int, list[float]] = defaultdict(list)
    for at, value in samples:
        grouped[int((at - start) // BUCKET_SECONDS)].append(value)
    empty = 0.0 if stat in ("Sum", "SampleCount") else math.nan
    return [statistic(grouped[index], stat) if grouped.get(index) else empty for index in range(buckets)]


def panel_series(run: Run, template: dict, widget: dict) -> tuple[list[tuple[str, list[float]]], list[str]]:
    """``([(label, values per bucket)], [rows only AWS measures])`` for one widget, expressions evaluated."""
    properties = widget["properties"]
    buckets = max(
        1, int((max([at for at, _ in run.records + run.requests], default=run.start) - run.start) // BUCKET_SECONDS) + 1
    )
    values: dict[str, list[float] | None] = {}
    drawn, missing = [], []
    for index, row in enumerate(properties["metrics"]):
        options = row[-1] if isinstance(row[-1], dict) else {}
        identifier = options.get("id", f"row{index}")
        label = options.get("label", row[1] if len(row) > 1 else identifier)
        if "expression" in options:
            series = _expression(options["expression"], values, buckets)
        else:
            samples = _samples(run, template, row)
            series = (
                None
                if samples is None
                else _bucketed(samples, options.get("stat", properties["stat"]), run.start, buckets)
            )
        values[identifier] = series
        if series is None:
            missing.append(label)
        elif options.get("visible", True):
            drawn.append((label, series))
    return drawn, missing


def _fill(value: float, instead: float) -> float:
    """CloudWatch's FILL(metric, value) for one data point."""
    return instead if math.isnan(value) else value


def _expression(expression: str, values: dict[str, list[float] | None], buckets: int) -> list[float] | None:
    """The dashboard's metric math (numbers, ids, FILL, + - * / and parentheses), bucket by bucket."""
    names = dashboard.EXPRESSION_NAMES.findall(expression)
    if any(values.get(name) is None for name in names):
        return None
    results = []
    for index in range(buckets):
        scope = {name: values[name][index] for name in names} | {"FILL": _fill}
        try:
            results.append(float(eval(expression, {"__builtins__": {}}, scope)))  # the template's own math, no names
        except ZeroDivisionError:
            results.append(math.nan)
    return results


def panels(template: dict) -> list[dict]:
    """The dashboard's widgets as CloudFormation makes them for the template's default parameter values."""
    values = sam.parameter_values(template, {})
    return json.loads(Evaluator(template, values).sub(dashboard.render(template)))["widgets"]


def draw(run: Run, template: dict, path: Path, title: str) -> Path:
    """Write the dashboard's panels for ``run`` as a PNG at ``path``; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    widgets = panels(template)
    rows = math.ceil(len(widgets) / 2)
    figure, axes = pyplot.subplots(rows, 2, figsize=(14, 2.6 * rows), squeeze=False)
    for axis, widget in zip(axes.flat, widgets, strict=False):
        drawn, missing = panel_series(run, template, widget)
        seconds = [index * BUCKET_SECONDS for index in range(len(drawn[0][1]))] if drawn else []
        for label, series in drawn:
            axis.plot(seconds, series, label=label, linewidth=1.2)
        axis.set_title(widget["properties"]["title"], fontsize=10)
        if drawn:
            axis.legend(fontsize=7, loc="upper right")
        if missing:
            axis.text(
                0.01,
                0.97,
                f"{AWS_ONLY}: {', '.join(missing)}",
                transform=axis.transAxes,
                fontsize=7,
                va="top",
                color="dimgray",
            )
        axis.tick_params(labelsize=7)
        axis.set_xlabel("seconds into the run", fontsize=7)
    for axis in list(axes.flat)[len(widgets) :]:
        axis.set_visible(False)
    figure.suptitle(title, fontsize=12)
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    figure.savefig(path, dpi=80)
    pyplot.close(figure)
    return path
