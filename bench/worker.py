"""A warm Lambda container for one handler: invokes it on request and times each invocation.

    python -m bench.worker handlers.me.lambda_handler

Reads one JSON request per line on stdin, ``{"event": "<event JSON>", "count":
N, "restore_profile": false}``, and answers each with one JSON line on the
original stdout: ``{"ns": [...], "statuses": {...}}``, one duration per
invocation, in ns, of the handler call alone. Each invocation gets a freshly
parsed event, as Lambda hands over; parsing it, and putting the profile back
before a DELETE, happen outside the timed call. The handler's own log lines
go to /dev/null.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time

from bench.coldstart import status_of
from tools.lambda_context import Context


def load_handler(handler_path: str):
    module_name, _, attribute = handler_path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def profile_database():
    from pymongo import MongoClient

    return MongoClient(os.environ["MONGODB_URI"])[os.environ["MONGODB_DATABASE"]]


def run(handler, request: dict, database) -> dict:
    if request.get("restore_profile"):  # the harness's own modules, only when needed: another interpreter lacks them
        from bench import replay

    durations, statuses, context = [], {}, Context()
    for _ in range(request["count"]):
        if request.get("restore_profile"):
            replay.restore_profile(database)
        event = json.loads(request["event"])
        started = time.perf_counter_ns()
        try:
            result = handler(event, context)
        except Exception as exc:
            result = {"statusCode": f"raised {type(exc).__name__}"}
        durations.append(time.perf_counter_ns() - started)
        status = status_of(result)
        statuses[status] = statuses.get(status, 0) + 1
    if request.get("restore_profile"):
        replay.restore_profile(database)
    return {"ns": durations, "statuses": statuses}


def main() -> int:
    answers = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    handler = load_handler(sys.argv[1])
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    database = None
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("restore_profile") and database is None:
            database = profile_database()
        answers.write(json.dumps(run(handler, request, database)) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
