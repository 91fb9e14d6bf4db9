"""One cold start in this fresh interpreter: import a handler, invoke it once, report the times.

    python bench/coldstart.py handlers.me.lambda_handler event.json
    python bench/coldstart.py - -          # the interpreter alone

With ``BENCH_WARM_REPEAT=N`` in the environment, the handler then answers the
same event N more times, warm, before the report: ``make bench-instructions``
counts a run with N and one without, and the difference is N warm requests.

The last line on stdout is ``BENCH {json}`` with monotonic-clock timestamps in
ns (the same clock as the parent's ``time.monotonic_ns()``), the process's CPU
time (user + system, all threads, since it started) at the first response, the
first response's status, which drivers and AWS SDK modules the process
imported and its peak RSS. Only
stdlib modules that Lambda's own runtime loads before the handler (json,
importlib) are imported ahead of it, and the fake context object
(:mod:`tools.lambda_context`, standard library only); nothing of the
benchmark harness is.
"""

import time

STARTED_NS = time.monotonic_ns()

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVERS = ("pymongo", "orjson", "jwt", "motor", "fastapi", "aws_lambda_powertools", "boto3")
AWS_SDK = ("boto3", "botocore", "s3transfer")  # what a deployed function's path must never load


def status_of(result) -> str:
    """What the first response says: its HTTP status, an authorizer's effect, or "ok"."""
    if isinstance(result, dict) and "statusCode" in result:
        return str(result["statusCode"])
    if isinstance(result, dict) and "policyDocument" in result:
        return str(result["policyDocument"]["Statement"][0]["Effect"])
    if isinstance(result, dict) and "isAuthorized" in result:  # an HTTP API authorizer's simple response
        return "Allow" if result["isAuthorized"] is True else "Deny"
    return "ok"


def peak_rss_kb() -> int:
    """This process's peak resident memory in KiB.

    Linux keeps ``ru_maxrss`` across exec, so it would report the parent's
    peak; ``VmHWM`` belongs to this program alone.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def report(fields: dict) -> None:
    sys.stdout.flush()
    sys.stdout.write("BENCH " + json.dumps(fields) + "\n")
    sys.stdout.flush()


def main() -> None:
    handler_path, event_path = sys.argv[1], sys.argv[2]
    del sys.path[0]  # this script's folder: the handler must not see the harness's modules
    sys.path.append(REPOSITORY)  # for the fake context alone (standard library only), then gone again
    from tools.lambda_context import Context

    sys.path.pop()
    fields = {"started_ns": STARTED_NS}
    if handler_path != "-":
        with open(event_path) as file:
            event = json.load(file)
        module_name, _, attribute = handler_path.rpartition(".")
        fields["import_started_ns"] = time.monotonic_ns()
        try:
            handler = getattr(importlib.import_module(module_name), attribute)
            fields["imported_ns"] = time.monotonic_ns()
            context = Context()
            result = handler(event, context)
            fields["invoked_ns"] = time.monotonic_ns()
            fields["cpu_ns"] = time.process_time_ns()
            fields["status"] = status_of(result)
            for _ in range(int(os.environ.get("BENCH_WARM_REPEAT", "0"))):
                handler(event, context)
        except Exception as exc:
            fields["error"] = f"{type(exc).__name__}: {exc}"
    fields["drivers"] = [name for name in DRIVERS if name in sys.modules]
    fields["aws_sdk"] = [name for name in AWS_SDK if name in sys.modules]
    fields["max_rss_kb"] = peak_rss_kb()
    report(fields)
    os._exit(0)  # skip interpreter teardown: it is not part of a cold start


if __name__ == "__main__":
    main()
