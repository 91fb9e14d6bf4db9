"""The one fake of Lambda's context object, and the one capture of a handler's log lines."""

from __future__ import annotations

import time

from tools.gateway.runner import LogLines
from tools.lambda_context import Context


def test_the_context_names_the_function_from_lambdas_variables(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "MeFunction")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    context = Context(request_id="req-1")
    assert (context.function_name, context.memory_limit_in_mb, context.aws_request_id) == ("MeFunction", 512, "req-1")
    assert context.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:MeFunction"
    assert context.log_group_name == "/aws/lambda/MeFunction"


def test_a_function_name_given_wins_over_the_variable(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "MeFunction")
    assert Context("HealthFunction").function_name == "HealthFunction"


def test_the_remaining_time_counts_down_to_the_deadline_and_stops_at_zero():
    assert 9_000 < Context().get_remaining_time_in_millis() <= 10_000
    assert Context(deadline_ms=time.time() * 1000 - 5).get_remaining_time_in_millis() == 0


def test_each_complete_line_is_given_and_the_unfinished_one_at_flush():
    lines: list[str] = []
    flushes: list[bool] = []
    logged = LogLines(lines.append, lambda: flushes.append(True))
    logged.write('{"level": "INFO"}\n{"le')
    logged.write('vel": "ERROR"}\nlast')
    assert lines == ['{"level": "INFO"}', '{"level": "ERROR"}']
    logged.flush()
    assert lines[-1] == "last" and flushes == [True]
