"""One JSON line per request on stdout, which is also a CloudWatch metrics record.

Each request line follows the CloudWatch Embedded Metric Format (EMF): Lambda
sends stdout to CloudWatch Logs, which turns the ``_aws`` block into metrics
(``Latency``, ``ServerErrors``, ``ColdStart`` per function and route, and per
function and version) with no API call. The version (``AWS_LAMBDA_FUNCTION_VERSION``,
read once at import) is what lets a canary's alarm count its new version only.
Lines never carry headers, bodies, tokens or connection strings.
"""

from __future__ import annotations

import os
import sys
import time
from functools import cache

import orjson

from shared.config import ConfigError, settings

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Mapping

    from shared.request import Request

    Record = dict[str, object]

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


@cache
def _secret_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The patterns :func:`redact` masks, compiled on first use: most cold starts never redact anything."""
    import re

    return (
        (re.compile(r"(mongodb(?:\+srv)?://)[^@/\s]+@"), r"\1***@"),
        (re.compile(r"(?i)(bearer\s+)\S+"), r"\1***"),
        # A JWT: three base64url parts, the first holding "eyJ" (``{"`` encoded). The pattern starts only where a
        # run of base64url characters starts, so that it takes linear time: "eyJ" * n costs n, not n squared.
        (re.compile(r"(?<![\w-])(?=[\w-]*?eyJ)[\w-]*\.[\w-]*\.[\w-]*"), "***"),
    )


def redact(text: str) -> str:
    """``text`` with connection-string credentials and bearer tokens masked, in time linear in its length.

    Redact before cutting a text short: a secret cut in two no longer matches.
    """
    for pattern, replacement in _secret_patterns():
        text = pattern.sub(replacement, text)
    return text


def emit(record: Mapping[str, object]) -> None:
    """Write ``record`` as one JSON line on stdout; text UTF-8 cannot hold (a lone surrogate) is escaped, not fatal."""
    try:
        line = orjson.dumps(record, default=str).decode()
    except TypeError:  # orjson.JSONEncodeError
        import json  # only for such a record: the standard library escapes lone surrogates as \\udXXX

        line = json.dumps(record, default=str, separators=(",", ":"))
    sys.stdout.write(line + "\n")


def _threshold() -> int:
    try:
        return LEVELS[settings().log_level]
    except ConfigError:  # the router reports bad settings; until then, log as the default INFO would
        return LEVELS["INFO"]


def logs(level: str) -> bool:
    """Whether :func:`log` writes lines of ``level``: a caller can skip building a line nobody will read."""
    return LEVELS[level] >= _threshold()


def log(level: str, message: str, **fields: object) -> None:
    """A JSON log line, written when ``level`` is at or above ``LOG_LEVEL`` (INFO while the settings are invalid)."""
    if LEVELS[level] < _threshold():
        return
    emit({"level": level, "message": redact(message), **fields})


# The version this code runs as: "3" for a published version, "$LATEST" locally and for unpublished code.
VERSION = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
REQUEST_DIMENSIONS = [["function", "route"], ["function", "version"]]
COUNT_DIMENSIONS = [["function", "version"], ["function"]]  # a version's count, and every version's to compare


@cache
def _metric_directives(namespace: str) -> list[Record]:
    """The unchanging part of the metrics block, built once: a warm request should not rebuild it."""
    return [
        {
            "Namespace": namespace,
            "Dimensions": REQUEST_DIMENSIONS,
            "Metrics": [
                {"Name": "Latency", "Unit": "Milliseconds"},
                {"Name": "ServerErrors", "Unit": "Count"},
                {"Name": "ColdStart", "Unit": "Count"},
            ],
        }
    ]


@cache
def _count_directives(namespace: str, metric: str) -> list[Record]:
    return [{"Namespace": namespace, "Dimensions": COUNT_DIMENSIONS, "Metrics": [{"Name": metric, "Unit": "Count"}]}]


def metrics_block(namespace: str, directives: list[Record] | None = None) -> Record:
    return {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": directives or _metric_directives(namespace)}


def metrics_namespace() -> str:
    """The metrics' namespace: the ``APP_NAME`` setting, or with invalid settings ``APP_NAME`` as the template sets it.

    A bad setting must still count: its 500s are what the canary's ServerErrors alarm must see.
    """
    try:
        return settings().app_name
    except ConfigError:
        return os.environ.get("APP_NAME", "").strip() or "bare-api"


def log_counted(level: str, message: str, *, metric: str, function: str, **fields: object) -> None:
    """A log line that also counts 1 of ``metric`` for ``function``, per version and over all versions (EMF).

    Written whatever ``LOG_LEVEL`` says, since the count must not depend on it. With invalid
    settings the namespace falls back to ``APP_NAME`` as the template sets it. These lines are
    the rare path (a refusal, a failure), so the version is read when they are written. Never raises.
    """
    namespace = metrics_namespace()
    try:
        emit(
            {
                "_aws": metrics_block(namespace, _count_directives(namespace, metric)),
                "level": level,
                "message": redact(message),
                "function": function,
                "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                metric: 1,
                **fields,
            }
        )
    except Exception as broken:
        sys.stderr.write(redact(f"{message} line not written ({type(broken).__name__}: {broken})") + "\n")


# Metrics that modules add to the request line (see add_metric_source): their names and their counts.
_source_metrics: list[tuple[str, str]] = []  # every source's (name, unit) pairs, in order
_takers: list[Callable[[Record], object]] = []  # every source's ``take``, in the same order
_request_directives: dict[str, list[Record]] = {}  # the request line's directives per namespace, sources included
_request_fragments: dict[str, orjson.Fragment] = {}  # the same, serialized once: the usual line embeds them as they are


def add_metric_source(metrics: tuple[tuple[str, str], ...], take: Callable[[Record], object]) -> None:
    """Add ``metrics`` (``(name, unit)`` pairs) to every request line from now on, per function.

    ``take(fields)`` sets their values in the line's ``fields`` (one entry per
    metric), and restarts its counts: it is called once per request line. A
    module registers itself when it is imported, so a function that never
    imports it (health, the authorizer) carries none of its metrics.
    """
    _source_metrics.extend(metrics)
    _takers.append(take)
    _request_directives.clear()
    _request_fragments.clear()


def request_directives(namespace: str) -> list[Record]:
    """The request line's metric directives: its own, then the sources' (per function), built once per namespace."""
    found = _request_directives.get(namespace)
    if found is None:
        found = list(_metric_directives(namespace))
        if _source_metrics:
            metrics = [{"Name": name, "Unit": unit} for name, unit in _source_metrics]
            found.append({"Namespace": namespace, "Dimensions": [["function"]], "Metrics": metrics})
        _request_directives[namespace] = found
    return found


def _request_fragment(namespace: str) -> orjson.Fragment:
    """:func:`request_directives` serialized once per namespace, for orjson to copy into each usual line."""
    found = _request_fragments.get(namespace)
    if found is None:
        found = _request_fragments[namespace] = orjson.Fragment(orjson.dumps(request_directives(namespace)))
    return found


def milliseconds(value: float) -> float:
    """``value`` (milliseconds, not negative) to the microsecond, half up: ``round(value, 3)`` at a fraction of its
    cost."""
    return int(value * 1000 + 0.5) / 1000


def log_request(
    *,
    function: str,
    request: Request | None,
    request_id: str,
    route: str,
    status: int,
    latency_ms: float,
    cold_start: bool,
    failure: BaseException | None,
) -> None:
    """The request's log line and metrics. Never raises.

    ``Latency`` is ``latency_ms`` to the microsecond. A failure adds ``error`` (its type), ``detail`` (its
    message, redacted) and, unless it is a :class:`ConfigError`, whose message says it all, its ``traceback``.
    With invalid settings the metrics go to the namespace :func:`metrics_namespace` falls back to,
    so that a misconfigured version's 500s count in its ``ServerErrors``.
    """
    try:
        # The metrics block first, as CloudWatch shows it; with invalid settings, in metrics_namespace()'s fallback.
        namespace = metrics_namespace()
        timestamp = int(time.time() * 1000)
        method, path = (request.method, request.path) if request is not None else ("", "")
        fields: Record = {
            "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": _request_fragment(namespace)},
            "level": "ERROR" if status >= 500 else "INFO",
            "message": "request",
            "function": function,
            "version": VERSION,
            "route": route or "-",
            "method": method,
            "path": path,
            "status": status,
            "request_id": request_id,
            "Latency": milliseconds(latency_ms),
            "ServerErrors": 1 if status >= 500 else 0,
            "ColdStart": 1 if cold_start else 0,
        }
        for take in _takers:
            take(fields)
        if failure is None:
            try:  # the usual line, its constant directives embedded as serialized once (_request_fragment)
                line = orjson.dumps(fields, option=orjson.OPT_APPEND_NEWLINE)
            except TypeError:  # orjson.JSONEncodeError: left to emit, which writes any value
                pass
            else:
                sys.stdout.write(line.decode())
                return
        record: Record = {
            **fields,
            "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": request_directives(namespace)},  # the same, as a list
        }
        if failure is not None:
            record["error"] = type(failure).__name__
            record["detail"] = redact(str(failure))[:500]
        if failure is not None and not isinstance(failure, ConfigError):
            import traceback  # only on a failure: it costs a millisecond of every cold start

            record["traceback"] = redact("".join(traceback.format_exception(failure)))
        emit(record)
    except Exception as broken:  # say what, so the cause is never lost
        cause = f"; the request failed with {type(failure).__name__}: {failure}" if failure is not None else ""
        sys.stderr.write(redact(f"request log line not written ({type(broken).__name__}: {broken}){cause}") + "\n")
