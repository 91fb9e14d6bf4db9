"""``make bench-lambda``: invoke a function through boto3 with the events, and report Lambda's own timings.

    python -m bench.lambda_bench --function bare-api-MeFunction-AbC123 [--events "events/me.json"] [--count 20]
    python -m bench.lambda_bench --function function --endpoint http://127.0.0.1:9001 --log-file rie.log
    python -m bench.lambda_bench --rie MeFunction [--count 20]

Against AWS, each invocation asks for ``LogType=Tail``: Lambda answers with
the last 4 KB of the invocation's log, whose ``REPORT`` line carries
``Duration``, ``Billed Duration``, ``Max Memory Used`` and, for a cold start,
``Init Duration``. aws-lambda-rie serves the same Invoke API but sends no log
tail: its ``REPORT`` lines go to its own output, which ``--log-file`` reads.
``--rie`` runs a template function under aws-lambda-rie here (on the local
database, like ``make invoke``) and reads them itself; its first invocation
is a cold start. Without ``--events``, the events are those ``template.yaml``
routes to a function whose logical id appears in the function's name.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import replay
from bench.stats import summary
from tools import cli, loopback, rie

ROOT = Path(__file__).resolve().parent.parent

RIE_FUNCTION_NAME = "function"  # the one name aws-lambda-rie answers to


@dataclass
class Invocation:
    """One invocation: what came back and Lambda's own REPORT fields (ms and MB as numbers)."""

    event: str
    status: str
    client_ms: float
    report: dict[str, float]


class LogFile:
    """The REPORT lines aws-lambda-rie appends to its output file, read as they arrive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def next_report(self, timeout: float = 5.0) -> str:
        """The text of the next REPORT line written after the last one read; "" if none comes."""
        deadline = time.monotonic() + timeout
        while True:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                text = file.read().decode(errors="replace")
            end = text.find("\n", text.find("REPORT RequestId:"))
            if "REPORT RequestId:" in text and end != -1:
                self.offset += len(text[: end + 1].encode())
                return text[: end + 1]
            if time.monotonic() > deadline:
                return ""
            time.sleep(0.01)


def report_fields(log_text: str) -> dict[str, float]:
    """The numbers of the last REPORT line in ``log_text``: durations in ms, memory in MB."""
    fields: dict[str, float] = {}
    for line in log_text.splitlines():
        parsed = rie.parse_report(line)
        if parsed is not None:
            fields = {name: float(value.split()[0]) for name, value in parsed.items() if name != "RequestId"}
    return fields


def lambda_client(endpoint: str | None, region: str | None):
    """boto3's Lambda client; against an ``endpoint`` without AWS credentials it signs with placeholders."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60, connect_timeout=5)
    options = {"region_name": region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")}
    if endpoint:
        options["endpoint_url"] = endpoint
        options["region_name"] = options["region_name"] or "us-east-1"
        if boto3.Session().get_credentials() is None:
            options.update(aws_access_key_id="local", aws_secret_access_key="local")
    return boto3.client("lambda", config=config, **options)


def invoke(client, function_name: str, item: replay.ReplayEvent, log_file: LogFile | None) -> Invocation:
    """Invoke once with ``item``'s event; Lambda's REPORT from the log tail, or from ``log_file``."""
    started = time.perf_counter()
    answer = client.invoke(FunctionName=function_name, Payload=item.as_json().encode(), LogType="Tail")
    payload = answer["Payload"].read()
    client_ms = (time.perf_counter() - started) * 1000
    if "LogResult" in answer:
        log_text = base64.b64decode(answer["LogResult"]).decode(errors="replace")
    else:
        log_text = log_file.next_report() if log_file is not None else ""
    return Invocation(item.name, status_of(answer, payload), client_ms, report_fields(log_text))


def status_of(answer: dict, payload: bytes) -> str:
    if answer.get("FunctionError"):
        return f"error {answer['FunctionError']}"
    try:
        result = json.loads(payload)
    except ValueError:
        return "not JSON"
    if isinstance(result, dict) and "errorType" in result and "statusCode" not in result:
        return f"raised {result['errorType']}"
    if isinstance(result, dict) and "statusCode" in result:
        return str(result["statusCode"])
    return "ok"


def run(
    client, function_name: str, events: list[replay.ReplayEvent], count: int, log_file: LogFile | None = None
) -> list[Invocation]:
    """``count`` invocations per event, events taking turns; the first one is the cold start if any."""
    return [invoke(client, function_name, item, log_file) for _ in range(count) for item in events]


def render(invocations: list[Invocation]) -> str:
    """A table per event: client round trip and Lambda's Duration, plus every Init Duration seen."""
    lines = [f"{'event':<32}{'n':>4}{'client p50':>12}{'p99':>9}{'Duration p50':>14}{'p99':>9}  statuses"]
    for event in dict.fromkeys(item.event for item in invocations):
        mine = [item for item in invocations if item.event == event]
        client = summary([item.client_ms for item in mine])
        durations = [item.report["Duration"] for item in mine if "Duration" in item.report]
        duration = f"{summary(durations)['p50']:>14.2f}{summary(durations)['p99']:>9.2f}" if durations else f"{'-':>23}"
        statuses = ", ".join(f"{status} x{n}" for status, n in _count(item.status for item in mine).items())
        lines.append(
            f"{event.removeprefix('events/'):<32}{len(mine):>4}{client['p50']:>12.2f}{client['p99']:>9.2f}"
            f"{duration}  {statuses}"
        )
    first = invocations[0]
    init = f"{first.report['Init Duration']:.2f} ms" if "Init Duration" in first.report else "none (it was warm)"
    duration = f"{first.report['Duration']:.2f} ms" if "Duration" in first.report else "-"
    lines.append(
        f"first invocation ({first.event}): client {first.client_ms:.2f} ms, Duration {duration}, Init Duration {init}"
    )
    if not any(item.report for item in invocations):
        lines.append("No REPORT lines: the endpoint sent no log tail; pass --log-file with aws-lambda-rie's output.")
    return "\n".join(lines)


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def events_for(function_name: str, spec: str | None) -> list[replay.ReplayEvent]:
    """The events named by ``spec``, or those whose function's logical id appears in ``function_name``."""
    events = replay.load(replay.select(spec))
    if spec:
        return events
    chosen = [item for item in events if item.function.lower() in function_name.lower()]
    if not chosen:
        raise ValueError(f"no event is routed to a function named like {function_name!r}; name them with --events")
    return chosen


@contextmanager
def local_function(function: str, handler: str) -> Iterator[tuple[str, LogFile]]:
    """``function``'s handler under aws-lambda-rie on loopback, on a seeded database; its endpoint and log."""
    from pymongo import MongoClient

    from bench.run import database_uri, function_environment

    with database_uri() as (uri, _), tempfile.TemporaryDirectory(prefix="bench-rie-") as folder:
        database_name = os.environ.get("BENCH_DATABASE", "bare_api_bench")
        client = MongoClient(uri, tz_aware=True)
        replay.seed(client[database_name])
        log_path = Path(folder) / "rie.log"
        env = {
            **function_environment(uri, database_name),
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": "10",
        }
        port = rie_port()
        with open(log_path, "wb") as log:
            process = rie.start(handler, port, env, log_file=log)
            try:
                yield f"http://127.0.0.1:{port}", LogFile(log_path)
            finally:
                rie.stop(process)
                client.drop_database(database_name)
                client.close()


def rie_port() -> int:

    return loopback.free_port()


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("STAGE", "local")  # the events' tokens are minted with the local development secret
    parser = cli.Parser(
        prog="make bench-lambda", description="Invoke a Lambda function with the events; report its REPORT lines."
    )
    parser.add_argument("--function", default=os.environ.get("FUNCTION", ""), help="function name or ARN")
    parser.add_argument(
        "--endpoint", default=os.environ.get("ENDPOINT") or None, help="the Invoke API's URL, such as aws-lambda-rie's"
    )
    parser.add_argument("--rie", metavar="LOGICAL_ID", help="run this template function under aws-lambda-rie here")
    parser.add_argument("--log-file", type=Path, help="aws-lambda-rie's output, to read its REPORT lines")
    parser.add_argument("--events", default=os.environ.get("EVENTS", ""), help="event files or globs")
    parser.add_argument("--count", type=cli.positive, default=20, help="invocations per event")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    if not args.function and not args.rie:
        parser.error("say which function: --function NAME (FUNCTION=...) or --rie LOGICAL_ID")
    try:
        events = events_for(args.rie or args.function, args.events)
        if args.rie:
            with local_function(args.rie, events[0].handler) as (endpoint, log_file):
                invocations = run(lambda_client(endpoint, None), RIE_FUNCTION_NAME, events, args.count, log_file)
        else:
            log_file = LogFile(args.log_file) if args.log_file else None
            client = lambda_client(args.endpoint, args.region)
            invocations = run(client, args.function, events, args.count, log_file)
    except (ValueError, LookupError, rie.RIEError) as exc:
        print(f"bench-lambda: {exc}", file=sys.stderr)
        return 2
    print(render(invocations))
    return 0


if __name__ == "__main__":
    sys.exit(main())
