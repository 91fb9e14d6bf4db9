"""The latency benchmark's harness: statistics, event replay, cold and warm runs, targets, Lambda and HTTP clients.

Short runs against the real pieces: the session's database server, fresh
interpreters, worker processes, aws-lambda-rie on loopback and an HTTP server
on loopback. Timings are never asserted, only that each is measured.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pymongo import MongoClient

from bench import cold, http_load, lambda_bench, replay, report, subjects, warm
from bench.run import function_environment
from bench.stats import percentile, summary

ROOT = Path(__file__).resolve().parent.parent
PARCELS = "tests.fixtures.resources.parcels.lambda_handler"  # a guarded resource of the tests' own


def events(*names: str) -> list[replay.ReplayEvent]:
    return replay.load([ROOT / name for name in names])


@pytest.fixture
def bench_database(mongo_uri):
    """A seeded database of this test's own, and the environment functions run with against it."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    client = MongoClient(mongo_uri, tz_aware=True)
    replay.seed(client[name])
    yield client[name], function_environment(mongo_uri, name)
    client.drop_database(name)
    client.close()


@pytest.fixture
def event_file(tmp_path):
    def write(item: replay.ReplayEvent) -> Path:
        path = tmp_path / Path(item.name).name
        path.write_text(item.as_json())
        return path

    return write


# Statistics


def test_percentile_interpolates_between_ranks():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 25) == 20
    assert percentile([10, 20, 30, 40, 50], 99) == pytest.approx(49.6)
    assert (percentile([7, 3, 5], 0), percentile([7, 3, 5], 100)) == (3, 7)


def test_percentile_of_one_sample_is_that_sample():
    assert percentile([42.0], 99) == 42.0


@pytest.mark.parametrize(("samples", "p"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_refuses_no_samples_and_ranks_outside_0_to_100(samples, p):
    with pytest.raises(ValueError):
        percentile(samples, p)


def test_summary_gives_count_median_spread_and_tails():
    result = summary([5, 1, 4, 2, 3])
    assert result == {"n": 5, "min": 1, "p25": 2, "p50": 3, "p75": 4, "p95": 4.8, "p99": 4.96, "max": 5, "mean": 3}


# Event replay


def test_every_event_file_is_replayed_by_default_top_level_first():
    names = [str(path.relative_to(ROOT)) for path in replay.select(None)]
    everywhere = {
        str(path.relative_to(ROOT)) for folder in replay.EVENT_FOLDERS for path in (ROOT / folder).glob("*.json")
    }
    assert set(names) == everywhere and "events/health.json" in names
    folders = [str(Path(name).parent) for name in names]
    assert folders == sorted(folders, key=list(replay.EVENT_FOLDERS).index)


def test_events_can_be_named_by_path_or_glob():
    chosen = replay.select("events/health.json, events/health*.json")
    assert [str(path.relative_to(ROOT)) for path in chosen] == ["events/health.json", "events/health-deep.json"]


def test_an_event_name_that_matches_nothing_is_refused():
    with pytest.raises(ValueError, match=r"events/nope\.json"):
        replay.select("events/health.json events/nope.json")


def test_each_event_reaches_the_function_the_template_routes_it_to(tmp_path):
    guarded = json.loads((ROOT / "events/health.json").read_text())
    guarded["headers"]["Authorization"] = "Bearer {{LOCAL_TOKEN}}"
    (tmp_path / "with-token.json").write_text(json.dumps(guarded))
    chosen = replay.load(
        [ROOT / "events/health.json", ROOT / "events/authorizer-token.json", tmp_path / "with-token.json"]
    )
    loaded = {item.name: item for item in chosen}
    assert loaded["events/health.json"].function == "HealthFunction"
    assert loaded["events/health.json"].handler == "handlers.health.lambda_handler"
    assert loaded["events/authorizer-token.json"].route == "authorizer"
    assert "{{LOCAL_TOKEN}}" not in loaded[str(tmp_path / "with-token.json")].as_json()


def test_routes_show_the_query_string(tmp_path):
    http = json.loads((ROOT / "events/v2/health.json").read_text())
    http.update(rawQueryString="deep=true", queryStringParameters={"deep": "true"})
    (tmp_path / "health-deep.json").write_text(json.dumps(http))
    chosen = replay.load([ROOT / "events/health-deep.json", tmp_path / "health-deep.json"])
    assert [item.route for item in chosen] == ["GET /health?deep=true", "GET /health?deep=true"]


def replay_event(name: str, method: str, path: str) -> replay.ReplayEvent:
    return replay.ReplayEvent(name, {}, "NotesFunction", "handlers.notes.lambda_handler", method, path)


def test_a_function_cold_starts_on_its_plainest_read():
    notes = [
        replay_event("events/note-delete.json", "DELETE", "/notes/1"),
        replay_event("events/notes-post.json", "POST", "/notes"),
        replay_event("events/notes.json", "GET", "/notes"),
        replay_event("events/v2/notes.json", "GET", "/notes"),
    ]
    health = events("events/health-deep.json", "events/health.json")
    assert (replay.cold_event(notes).name, replay.cold_event(health).name) == (
        "events/notes.json",
        "events/health.json",
    )


def test_only_delete_events_put_the_profile_back_first():
    chosen = [
        replay_event("events/note.json", "GET", "/notes/1"),
        replay_event("events/note-patch.json", "PATCH", "/notes/1"),
        replay_event("events/note-delete.json", "DELETE", "/notes/1"),
    ]
    assert [item.name for item in chosen if item.restores_profile] == ["events/note-delete.json"]


def test_baselines_replay_only_the_routes_they_serve():
    chosen = events("events/v2/health.json", "events/health-deep.json", "events/health.json")
    assert [item.name for item in chosen if subjects.serves_baseline(item)] == ["events/health.json"]


# Warm runs in worker processes


def test_warm_replay_times_every_invocation_of_every_event(bench_database):
    _, env = bench_database
    subject = subjects.function("HealthFunction", "handlers.health.lambda_handler", env)
    cases = [warm.WarmCase(subject, item) for item in events("events/health.json", "events/health-deep.json")]
    durations = warm.alternate(cases, count=7, warmup=2, chunk=3)
    assert {key: len(values) for key, values in durations.items()} == {case.key: 7 for case in cases}
    assert all(value > 0 for values in durations.values() for value in values)


def test_a_worker_whose_handler_answers_errors_stops_the_run(bench_database):
    _, env = bench_database
    unauthenticated = replay.ReplayEvent(
        "no-caller",
        {"httpMethod": "GET", "path": "/parcels", "requestContext": {"requestId": "r"}},
        "ParcelsFunction",
        PARCELS,
        "GET",
        "/parcels",
    )
    subject = subjects.function("ParcelsFunction", PARCELS, env)
    with pytest.raises(warm.WorkerError, match="401"):
        warm.alternate([warm.WarmCase(subject, unauthenticated)], count=2, warmup=0, chunk=2)


def test_a_worker_whose_handler_cannot_be_imported_says_why(bench_database):
    _, env = bench_database
    with pytest.raises(warm.WorkerError, match="ModuleNotFoundError"):
        warm.Worker(subjects.function("Nope", "handlers.nope.lambda_handler", env))


# Cold starts in fresh interpreters


def test_a_cold_start_is_split_into_interpreter_import_and_first_call(bench_database, event_file, tmp_path):
    _, env = bench_database
    item = events("events/health.json")[0]
    sample = cold.sample(subjects.function("HealthFunction", item.handler, env), event_file(item), tmp_path)
    assert sample.status == "200"
    assert min(sample.interpreter_ms, sample.import_ms, sample.invoke_ms) > 0
    assert sample.total_ms == sample.interpreter_ms + sample.import_ms + sample.invoke_ms
    assert "orjson" in sample.drivers and "pymongo" not in sample.drivers
    assert sample.max_rss_kb > 1000


def test_the_floor_loads_the_same_drivers_and_makes_the_one_call(bench_database, event_file, tmp_path):
    _, env = bench_database
    item = events("events/health-deep.json")[0]
    function = cold.sample(subjects.function("HealthFunction", item.handler, env), event_file(item), tmp_path)
    floor = cold.sample(subjects.floor(list(function.drivers), env), event_file(item), tmp_path)
    assert function.status == "200" and floor.status == "ok"
    assert {"pymongo", "orjson"} <= set(floor.drivers) and "jwt" not in floor.drivers


def test_the_token_floor_decodes_the_authorizer_events_token(bench_database, event_file, tmp_path):
    _, env = bench_database
    item = events("events/authorizer-request.json")[0]
    sample = cold.sample(subjects.floor(["jwt", "orjson"], env), event_file(item), tmp_path)
    assert sample.status == "ok" and "jwt" in sample.drivers and "pymongo" not in sample.drivers


def test_cold_rounds_alternate_subjects_and_sample_each_every_round(bench_database, event_file, tmp_path):
    _, env = bench_database
    item = events("events/health.json")[0]
    cases = [
        cold.ColdCase(subjects.interpreter()),
        cold.ColdCase(subjects.function("HealthFunction", item.handler, env), item.name, event_file(item)),
    ]
    order = []
    samples = cold.alternate(cases, rounds=2, pycache=tmp_path, before_each=lambda case: order.append(case.key))
    assert [len(values) for values in samples.values()] == [2, 2]
    assert order == [cases[0].key, cases[1].key, cases[1].key, cases[0].key]


def test_a_cold_start_that_fails_says_which_and_why(bench_database, event_file, tmp_path):
    _, env = bench_database
    item = events("events/health.json")[0]
    with pytest.raises(cold.ColdStartError, match=r"bare-api:Nope.*ModuleNotFoundError"):
        cold.sample(subjects.function("Nope", "handlers.nope.lambda_handler", env), event_file(item), tmp_path)


# Targets and the table


def cold_entry(
    route,
    system,
    median,
    function="MeFunction",
    event="events/me.json",
    config="plain",
    cpu=None,
    rss_kb=30_000,
    subject=None,
    aws_sdk=(),
):
    stats = {name: {"p25": median, "p50": median, "p75": median} for name in ("total_ms", "import_ms", "invoke_ms")}
    stats["cpu_ms"] = {"p25": cpu or median, "p50": cpu or median, "p75": cpu or median}
    stats["max_rss_kb"] = {"p50": rss_kb}
    return {
        "function": function,
        "route": route,
        "system": system,
        "subject": subject or system,
        "event": event,
        "summary": stats,
        "artifact_bytes": None,
        "config": config,
        "aws_sdk": list(aws_sdk),
        "phases": {},
    }


def warm_entry(route, system, p50, p99, function="MeFunction", event="events/me.json"):
    return {
        "function": function,
        "route": route,
        "system": system,
        "subject": system,
        "event": event,
        "summary_us": {"p50": p50, "p95": p99, "p99": p99, "max": p99},
    }


def results(cold_entries, warm_entries):
    return {
        "generated_at": "2026-01-01T00:00:00+00:00",
        "database": "test",
        "cold": cold_entries,
        "warm": warm_entries,
        "settings": {"cold_samples": 10, "warm_count": 2000, "warmup": 200, "chunk": 250, "bytecode": "compiled"},
        "machine": {
            "cpu_count": 2,
            "cpu_model": "cpu",
            "python": "3.12.0",
            "implementation": "CPython",
            "platform": "Linux",
            "load_average": [0.5, 0.5, 0.5],
            "commit": "abc1234",
        },
    }


def test_targets_pass_within_their_limits_and_fail_beyond():
    data = results(
        [
            cold_entry("GET /me", "bare-api", 114),
            cold_entry("GET /me", "floor", 100),
            cold_entry("GET /me", "FastAPI+Mangum", 290),
            cold_entry("GET /health", "bare-api", 25, "HealthFunction"),
            cold_entry("GET /health", "floor", 20, "HealthFunction"),
        ],
        [warm_entry("GET /me", "bare-api", 515, 1000), warm_entry("GET /me", "floor", 500, 900)],
    )
    targets = {target.name: target.passed for target in report.check_targets(data)}
    assert targets == {
        "production cold start of GET /me (secret reference + TLS) within 1.1x of its floor, CPU time": None,
        "production cold start of authorizer (secret reference + TLS) within 1.15x of its floor, CPU time": None,
        "no boto3, botocore or s3transfer in sys.modules after the first request of every production function": None,
        "peak memory of production GET /me at most 3 MiB above the plain cold start": None,
        "wall time to the first response of production GET /me at most its floor's plus one round trip": None,
        "cold start of GET /me within 1.15x of its floor": True,
        "cold start of GET /health within 1.2x of its floor": False,
        "cold start of authorizer within 1.2x of its floor": None,
        "cold start of GET /me at least 3.0x faster than FastAPI+Mangum": False,
        "warm GET /me p50 at most 20 us above the raw find_one": True,
        "warm GET /me p99 within 1.2x of the raw find_one's p99": True,
        "warm authorizer p50 at most 1.1x the raw jwt.decode": None,
    }


def test_warm_targets_fail_on_a_slow_handler_and_a_long_tail():
    data = results(
        [],
        [
            warm_entry("GET /me", "bare-api", 560, 1200),
            warm_entry("GET /me", "floor", 500, 900),
            warm_entry("authorizer", "bare-api", 61, 70, "AuthorizerFunction", "events/authorizer.json"),
            warm_entry("authorizer", "floor", 40, 50, "AuthorizerFunction", "events/authorizer.json"),
        ],
    )
    failed = [target.name for target in report.check_targets(data) if target.passed is False]
    assert failed == [
        "warm GET /me p50 at most 20 us above the raw find_one",
        "warm GET /me p99 within 1.2x of the raw find_one's p99",
        "warm authorizer p50 at most 1.1x the raw jwt.decode",
    ]


def test_the_report_prints_both_tables_and_a_line_per_target():
    data = results(
        [cold_entry("GET /me", "bare-api", 110), cold_entry("GET /me", "floor", 100)],
        [warm_entry("GET /me", "bare-api", 520, 900), warm_entry("GET /me", "floor", 500, 900)],
    )
    text = report.render(data)
    assert "Cold start" in text and "Warm latency" in text and "1.10x floor" in text and "(+20.0 us)" in text
    assert sum(line.startswith(("PASS", "FAIL", "SKIP")) for line in text.splitlines()) == 12
    assert "2 CPUs" in text and "3.12.0" in text


def production_run(ours_cpu, floor_cpu, ours_wall, floor_wall, rss_kb, aws_sdk=()):
    deployed = {"config": "production"}
    return results(
        [
            cold_entry(
                "GET /me",
                "bare-api",
                ours_wall,
                cpu=ours_cpu,
                rss_kb=rss_kb,
                aws_sdk=aws_sdk,
                subject="MeFunction (Secrets Manager)",
                **deployed,
            ),
            cold_entry("GET /me", "floor", floor_wall, cpu=floor_cpu, **deployed),
            cold_entry(
                "authorizer",
                "bare-api",
                100,
                "AuthorizerFunction",
                cpu=110,
                subject="AuthorizerFunction (Secrets Manager)",
                **deployed,
            ),
            cold_entry("authorizer", "floor", 100, "AuthorizerFunction", cpu=100, **deployed),
            cold_entry("GET /me", "bare-api", 150, rss_kb=30_000),
        ],
        [],
    ) | {"production": {"delay_ms": 5.0}}


def test_production_targets_pass_within_their_limits():
    targets = report.production_targets(
        production_run(ours_cpu=109, floor_cpu=100, ours_wall=209, floor_wall=200, rss_kb=30_000 + 3 * 1024)
    )
    assert [target.passed for target in targets] == [True, True, True, True, True]


def test_production_targets_fail_beyond_their_limits():
    targets = report.production_targets(
        production_run(
            ours_cpu=111, floor_cpu=100, ours_wall=211, floor_wall=200, rss_kb=30_000 + 4 * 1024, aws_sdk=["botocore"]
        )
    )
    assert [target.passed for target in targets] == [False, True, False, False, False]
    assert "botocore" in targets[2].detail


def test_the_report_leads_with_the_production_table():
    text = report.render(production_run(ours_cpu=109, floor_cpu=100, ours_wall=209, floor_wall=200, rss_kb=30_000))
    assert text.index("Cold start as deployed") < text.index("Cold start with a plain local URI")
    assert "bare-api, Secrets Manager" in text and "1.09x floor" in text


def test_a_saved_run_is_json_and_text(tmp_path):
    data = results([cold_entry("GET /me", "bare-api", 110), cold_entry("GET /me", "floor", 100)], [])
    paths = report.save(data, tmp_path, chart=False)
    assert [path.suffix for path in paths] == [".json", ".txt"]
    assert "cold start of GET /me" in paths[1].read_text()


def test_a_published_run_is_a_docs_page_with_the_whole_report_and_a_copy_of_its_chart(tmp_path):
    data = results([cold_entry("GET /me", "bare-api", 110), cold_entry("GET /me", "floor", 100)], [])
    chart = tmp_path / "results" / "bench-run.png"
    chart.parent.mkdir()
    chart.write_bytes(b"\x89PNG the run's chart")
    written = report.publish(data, tmp_path / "docs" / "benchmark.md", chart, tmp_path / "bench" / "chart.png")
    assert written == [tmp_path / "docs" / "benchmark.md", tmp_path / "bench" / "chart.png"]
    assert written[1].read_bytes() == chart.read_bytes()
    text = written[0].read_text()
    assert "](../bench/chart.png)" in text
    assert "```text\n" + report.render(data) + "\n```" in text


def test_a_run_without_a_chart_publishes_the_page_alone(tmp_path):
    data = results([cold_entry("GET /me", "bare-api", 110), cold_entry("GET /me", "floor", 100)], [])
    written = report.publish(data, tmp_path / "benchmark.md", None, tmp_path / "chart.png")
    assert written == [tmp_path / "benchmark.md"] and not (tmp_path / "chart.png").exists()
    assert "![" not in written[0].read_text()


def test_make_bench_refreshes_the_docs_page_and_its_chart_unless_told_not_to():
    from bench import run

    assert run.parse_args([]).docs == ROOT / "docs" / "benchmark.md"
    assert run.CHART_COPY == ROOT / "docs" / "benchmark.png"
    assert run.parse_args(["--no-docs"]).no_docs


# Lambda's Invoke API: aws-lambda-rie on loopback through boto3


def test_report_lines_give_lambdas_own_timings():
    tail = (
        "START RequestId: 1 Version: $LATEST\nEND RequestId: 1\nREPORT RequestId: 1\tDuration: 3.21 ms\t"
        "Billed Duration: 4 ms\tMemory Size: 512 MB\tMax Memory Used: 61 MB\tInit Duration: 120.50 ms\t\n"
    )
    assert lambda_bench.report_fields(tail) == {
        "Duration": 3.21,
        "Billed Duration": 4.0,
        "Memory Size": 512.0,
        "Max Memory Used": 61.0,
        "Init Duration": 120.5,
    }


def test_events_for_a_deployed_function_are_those_routed_to_its_logical_id():
    chosen = lambda_bench.events_for("bare-api-dev-HealthFunction-1AB2C3", "")
    assert {item.function for item in chosen} == {"HealthFunction"} and len(chosen) >= 2
    with pytest.raises(ValueError, match="--events"):
        lambda_bench.events_for("someone-elses-function", "")


def test_boto3_invokes_the_function_under_aws_lambda_rie_and_reads_its_reports(mongo_uri, monkeypatch):
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("BENCH_DATABASE", f"bench_{uuid.uuid4().hex[:10]}")
    chosen = events("events/health.json", "events/v2/health.json")
    with lambda_bench.local_function("HealthFunction", chosen[0].handler) as (endpoint, log_file):
        client = lambda_bench.lambda_client(endpoint, None)
        invocations = lambda_bench.run(client, lambda_bench.RIE_FUNCTION_NAME, chosen, 2, log_file)
    assert [(item.event, item.status) for item in invocations] == [(item.name, "200") for item in chosen] * 2
    assert all(item.report["Duration"] > 0 and item.client_ms > 0 for item in invocations)
    assert "Init Duration" in invocations[0].report
    assert "Init Duration" not in invocations[1].report
    assert "first invocation (events/health.json)" in lambda_bench.render(invocations)


# End to end over HTTP


class Server:
    """An HTTP/1.1 server on loopback that counts connections and remembers the Authorization it got."""

    def __init__(self, status: int = 200, close: bool = False) -> None:
        server = self
        self.connections, self.authorizations = 0, set()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self):
                server.connections += 1
                super().setup()

            def do_GET(self):
                server.authorizations.add(self.headers.get("Authorization"))
                body = b'{"id":"alice"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if close:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/dev/me"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server():
    servers = []

    def start(**options) -> Server:
        servers.append(Server(**options))
        return servers[-1]

    yield start
    for running in servers:
        running.close()


def test_http_load_keeps_one_connection_per_thread_and_times_every_request(server):
    api = server()
    result = http_load.load(api.url, token="t0k3n", requests=60, concurrency=3)
    assert result["statuses"] == {"200": 60} and result["latency_ms"]["n"] == 60
    assert result["connections"] == api.connections == 3
    assert api.authorizations == {"Bearer t0k3n"}


def test_http_load_reconnects_when_the_server_closes_and_counts_its_errors(server):
    api = server(status=503, close=True)
    result = http_load.load(api.url, requests=8, concurrency=2, warmup=0)
    assert result["statuses"] == {"503": 8}
    assert result["connections"] == api.connections == 8


def test_http_load_ends_by_itself_when_nothing_listens():
    result = http_load.load("http://127.0.0.1:9/", requests=5, concurrency=2, warmup=0, timeout=1)
    assert sum(result["statuses"].values()) == 5 and all(s.startswith("error") for s in result["statuses"])
    assert result["latency_ms"] is None


def test_http_load_refuses_a_url_it_cannot_reach_by_http():
    with pytest.raises(ValueError, match="http"):
        http_load.load("ftp://example.com/me")


def test_instruction_counts_of_cold_starts_are_judged_by_their_production_and_plain_limits():
    from bench import instructions

    rows = [
        ("GET /me", "bare-api MeFunction (Secrets Manager)", 530_000_000, 507_900_000),
        ("GET /me", "boto3 secrets GET /me", 1_180_000_000, 507_900_000),
        ("GET /me", "bare-api MeFunction", 503_800_000, 487_400_000),
        ("authorizer", "bare-api AuthorizerFunction (Secrets Manager)", 500_000_000, 419_600_000),
        ("authorizer", "bare-api AuthorizerFunction", 430_000_000, 419_600_000),
    ]
    verdicts = {target.name: target.passed for target in instructions.targets(rows)}
    assert verdicts == {
        "production cold start of GET /me within 1.05x of its floor, instructions": True,
        "plain cold start of GET /me within 1.03x of its floor, instructions": False,
        "production cold start of authorizer within 1.06x of its floor, instructions": False,
    }


def test_warm_instruction_counts_are_judged_per_request_beyond_the_floor():
    from bench import instructions

    rows = [
        ("GET /me", "bare-api MeFunction", 560_000.0, 466_900.0),
        ("authorizer", "bare-api AuthorizerFunction", 464_900.0, 418_900.0),
    ]
    verdicts = {target.name: target.passed for target in instructions.warm_targets(rows)}
    assert verdicts == {
        "warm GET /me within 106 k instructions of its find_one, per request": True,
        "warm authorizer within 1.1x of its jwt.decode, instructions per request": False,
    }


def test_a_cold_start_process_answers_the_event_again_warm_as_many_times_as_asked(tmp_path):
    import subprocess
    import sys

    (tmp_path / "counting.py").write_text(
        "import os\n"
        "def lambda_handler(event, context):\n"
        "    with open(os.environ['CALLS_FILE'], 'a') as calls:\n"
        "        calls.write(event['name'] + '\\n')\n"
        "    return {'statusCode': 200}\n"
    )
    (tmp_path / "event.json").write_text('{"name": "again"}')
    calls = tmp_path / "calls.txt"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "CALLS_FILE": str(calls), "BENCH_WARM_REPEAT": "3"}
    completed = subprocess.run(
        [sys.executable, "bench/coldstart.py", "counting.lambda_handler", str(tmp_path / "event.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert '"status": "200"' in completed.stdout
    assert calls.read_text().splitlines() == ["again"] * 4


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or 0 not in os.sched_getaffinity(0), reason="needs CPUs 0 and 1")
@pytest.mark.subprocess  # in a thread of its own, where the fast tier's refusal would end the thread only
def test_measured_processes_start_on_a_cpu_of_their_own_and_the_harness_stays_off_it(monkeypatch):
    import subprocess
    import sys

    from bench import cpus

    monkeypatch.setattr(cpus, "_chosen", {})  # put back after the test: later tests place nothing

    seen = {}

    def harness() -> None:  # a thread of its own: affinity is per thread, and pytest's must stay as it is
        placed = cpus.pin_harness()
        probe = [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"]
        with cpus.measured():
            measured = subprocess.Popen(probe, stdout=subprocess.PIPE, text=True)
        server = subprocess.Popen(probe, stdout=subprocess.PIPE, text=True)
        seen.update(placed=placed, measured=measured.communicate()[0].strip(), server=server.communicate()[0].strip())

    thread = threading.Thread(target=harness)
    thread.start()
    thread.join()
    assert seen["measured"] == str(seen["placed"]["measured"]) == "[0]"
    assert seen["server"] == str(seen["placed"]["harness"])
    assert 0 not in seen["placed"]["harness"]


def test_a_subject_runs_on_the_interpreter_and_with_the_folders_it_names(tmp_path):
    import sys

    from bench import cold, subjects

    library = tmp_path / "library"
    library.mkdir()
    (library / "elsewhere.py").write_text("def lambda_handler(event, context):\n    return {'statusCode': 204}\n")
    (tmp_path / "event.json").write_text("{}")
    subject = subjects.Subject(
        "bare-api", "Elsewhere", "elsewhere.lambda_handler", python=sys.executable, path=str(library)
    )
    sample = cold.sample(subject, tmp_path / "event.json", tmp_path / "pycache")
    assert sample.status == "204"


def test_the_runtimes_table_gives_each_version_its_figures_beside_its_floors():
    from bench import runtimes

    row = {
        "version": "3.13",
        "route": "GET /me",
        "ours_cold_cpu_ms": 160.0,
        "floor_cold_cpu_ms": 155.0,
        "ours_warm_p50_us": 300.0,
        "floor_warm_p50_us": 290.0,
        "ours_cold_instructions": 551_400_000,
        "floor_cold_instructions": 528_600_000,
        "ours_warm_instructions": 622_000.0,
        "floor_warm_instructions": 426_600.0,
    }
    lines = runtimes.render([row]).splitlines()
    assert lines[2].split() == [
        "GET",
        "/me",
        "3.13",
        "160.0",
        "/",
        "155.0",
        "551.4",
        "/",
        "528.6",
        "300.0",
        "/",
        "290.0",
        "(+10.0)",
        "622.0",
        "/",
        "426.6",
        "(+195.4)",
    ]


def test_the_runtimes_command_refuses_a_version_no_interpreter_is_found_for(capsys, monkeypatch):
    from bench import runtimes

    monkeypatch.setenv("LAMBDA_PYTHON", "")
    arguments = ["--versions", "2.0", "--events", "events/health.json", "--instructions-warm-count", "0"]
    assert runtimes.main(arguments) == 2
    assert "no Python 2.0 interpreter found" in capsys.readouterr().err
