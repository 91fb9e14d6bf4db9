"""One JSON line per request, which is also a CloudWatch EMF record; secrets never logged."""

import json
import time

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from handlers import health
from shared import db
from shared.errors import ServiceUnavailable
from shared.observability import redact
from tests.apigw import rest_event


def request_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if '"message":"request"' in line]


def test_each_request_writes_one_line_with_its_facts(capsys):
    health.lambda_handler(rest_event("GET", "/health"), None)
    [line] = request_lines(capsys.readouterr().out)
    assert line["route"] == "/health" and line["status"] == 200 and line["request_id"] == "req-1"
    assert line["method"] == "GET" and isinstance(line["Latency"], float)
    assert line["ColdStart"] in (0, 1)


def test_request_line_is_an_embedded_metric_format_record(capsys):
    health.lambda_handler(rest_event("GET", "/health"), None)
    [line] = request_lines(capsys.readouterr().out)
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert {metric["Name"] for metric in directive["Metrics"]} <= set(line)
    assert all(dimension in line for dimensions in directive["Dimensions"] for dimension in dimensions)
    assert isinstance(line["_aws"]["Timestamp"], int)


def test_request_line_never_carries_headers_or_tokens(capsys):
    event = rest_event("GET", "/health", headers={"Authorization": "Bearer eyJhbGciOi.eyJzdWIi.c2ln"})
    health.lambda_handler(event, None)
    assert "eyJ" not in capsys.readouterr().out


def test_redaction_masks_connection_string_credentials_and_tokens():
    text = "mongodb+srv://app:s3cret@cluster.example.net/db Bearer abc.def.ghi eyJa.eyJb.sig"
    assert redact(text) == "mongodb+srv://***@cluster.example.net/db Bearer *** ***"


def test_a_bad_setting_is_reported_on_the_request_line_itself(environment, capsys):
    environment(LOG_LEVEL="LOUD")
    status = health.lambda_handler(rest_event("GET", "/health"), None)["statusCode"]
    [line] = request_lines(capsys.readouterr().out)
    assert status == 500 and line["status"] == 500
    assert line["error"] == "ConfigError"
    assert line["detail"] == "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got 'LOUD'"


def test_a_bad_setting_counts_as_a_server_error_of_its_version(environment, capsys):
    environment(LOG_LEVEL="LOUD", APP_NAME="bare-api-prod")
    health.lambda_handler(rest_event("GET", "/health"), None)
    [line] = request_lines(capsys.readouterr().out)
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "bare-api-prod" and ["function", "version"] in directive["Dimensions"]
    assert line["ServerErrors"] == 1 and line["function"] == "health"


def test_an_unexpected_failure_is_logged_with_its_redacted_message_and_traceback(capsys):
    from shared.router import Router

    router = Router("broken")

    @router.get("/broken", public=True)
    def broken(request):
        raise RuntimeError("cannot reach mongodb://app:s3cret@db.example.net/")

    router.dispatch(rest_event("GET", "/broken"), None)
    [line] = request_lines(capsys.readouterr().out)
    assert line["error"] == "RuntimeError" and line["detail"] == "cannot reach mongodb://***@db.example.net/"
    assert "RuntimeError" in line["traceback"] and "s3cret" not in line["traceback"]


ADVERSARIAL = {
    "eyJ repeated": "eyJ" * 40_000,
    "eyJ and a dot repeated": "eyJ." * 30_000,
    "one dot after a long run": "eyJ" * 40_000 + ".",
    "bearer repeated": "bearer " * 20_000,
    "bearer and spaces": "bearer" + " " * 100_000,
    "mongodb without an at": "mongodb://" + "a" * 100_000,
    "mongodb repeated": "mongodb://a" * 10_000,
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_redaction_takes_linear_time_on_adversarial_text(text):
    started = time.perf_counter()
    redact(text)
    # A quadratic pattern took 1.25 s on a third of the first input and 6.8 s on two thirds of it; linear
    # matching takes milliseconds, so 1 s is a generous bound on a loaded machine.
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("token=eyJhbGciOi.eyJzdWIi.c2ln;", "token=***;"),
        ("xeyJhbGciOi.eyJzdWIi.c2ln", "***"),
        ("eyJa.b.c.d", "***.d"),
        ("eyJ" * 1000, "eyJ" * 1000),
        ("a.eyJb.c.d", "a.***"),
    ],
)
def test_redaction_masks_a_jwt_wherever_it_starts(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "secret",
    [
        "mongodb://app:s3cretpassw0rd@db.example.net/",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl",
    ],
)
@pytest.mark.parametrize("offset", [280, 290, 295, 299])
def test_a_database_error_is_redacted_before_it_is_cut(capsys, secret, offset):
    with pytest.raises(ServiceUnavailable), db.mapped_errors():
        raise ServerSelectionTimeoutError("x" * offset + " " + secret)
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "database unavailable" in line]
    assert "app:s3" not in line["detail"] and "eyJhbGci" not in line["detail"]
    assert len(line["detail"]) <= 300


# The version dimension: what lets a canary's alarm count its new version only


def run_health_twice(version: str) -> list[dict]:
    """Request lines of two calls in a fresh interpreter started as Lambda starts version ``version``;
    the variable changes between the calls, so a second value would show it is read per request."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = (
        "import json, os, sys; from handlers import health\n"
        "event = json.loads(sys.argv[1])\n"
        "health.lambda_handler(event, None)\n"
        "os.environ['AWS_LAMBDA_FUNCTION_VERSION'] = 'changed'\n"
        "health.lambda_handler(event, None)\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(root),
        "STAGE": "local",
        "APP_NAME": "bare-api-dev",
        "AWS_LAMBDA_FUNCTION_VERSION": version,
    }
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(rest_event("GET", "/health"))],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return request_lines(result.stdout)


def test_the_request_line_names_the_version_lambda_runs_read_once_at_import():
    lines = run_health_twice("12")
    assert [line["version"] for line in lines] == ["12", "12"]


def test_the_request_metrics_are_published_per_function_and_version_too():
    (line, _) = run_health_twice("12")
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert ["function", "version"] in directive["Dimensions"] and ["function", "route"] in directive["Dimensions"]
    assert {metric["Name"] for metric in directive["Metrics"]} == {"Latency", "ServerErrors", "ColdStart"}
    assert (directive["Namespace"], line["function"], line["ServerErrors"]) == ("bare-api-dev", "health", 0)


def test_unpublished_code_runs_as_latest(capsys):
    health.lambda_handler(rest_event("GET", "/health"), None)
    [line] = request_lines(capsys.readouterr().out)
    assert line["version"] == "$LATEST"


def counted_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if '"Refusals"' in line]


def test_a_counted_line_counts_one_per_version_and_over_every_version(environment, monkeypatch, capsys):
    from shared.observability import log_counted

    environment(APP_NAME="bare-api-dev")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "4")
    log_counted("INFO", "token refused", metric="Refusals", function="authorizer", reason="expired")
    [line] = counted_lines(capsys.readouterr().out)
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "bare-api-dev",
        "Dimensions": [["function", "version"], ["function"]],
        "Metrics": [{"Name": "Refusals", "Unit": "Count"}],
    }
    assert (line["Refusals"], line["function"], line["version"], line["reason"]) == (1, "authorizer", "4", "expired")


def test_a_counted_line_is_written_whatever_the_log_level(environment, capsys):
    from shared.observability import log_counted

    environment(LOG_LEVEL="ERROR")
    log_counted("INFO", "token refused", metric="Refusals", function="authorizer")
    assert len(counted_lines(capsys.readouterr().out)) == 1


def test_a_counted_line_keeps_its_namespace_when_the_settings_are_invalid(environment, capsys):
    from shared.observability import log_counted

    environment(LOG_LEVEL="LOUD", APP_NAME="bare-api-prod")
    log_counted("ERROR", "authorizer failure", metric="Refusals", function="authorizer")
    [line] = counted_lines(capsys.readouterr().out)
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "bare-api-prod"
