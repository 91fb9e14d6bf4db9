"""The developer commands, run for real: bad input is one line on stderr and a non-zero exit, never a traceback.

Each case runs the command's module (what its make target runs) in a subprocess;
a few go through ``make`` itself, for the Makefile's quoting.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pymongo
import pytest

from shared import tokens
from tests.fixtures.resources import parcels
from tests.test_tutorial import copy_of_the_repository

ROOT = Path(__file__).resolve().parent.parent
# Variables a developer's shell may hold that would change what the commands do.
AMBIENT = ("MONGODB_URI", "MONGODB_DATABASE", "DB_PORT", "LOG_LEVEL", "LOCAL_AUTH", "PORT", "MONGODB_TIMEOUT_MS")


MAKE_FAILED = re.compile(r"make(\[\d+\])?: \*\*\* ")  # make's own line about a failed recipe


def clean_environment(**overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in AMBIENT and not name.startswith("JWT_")}
    return {**env, "STAGE": "local", **overrides}


def run(module: str, *arguments: str, timeout: float = 60, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=cwd,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def make(*arguments: str, timeout: float = 120, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    command = ["make", "-s", "-o", ".venv/.installed", *arguments]  # never reinstall the virtualenv from a test
    return subprocess.run(
        command,
        cwd=cwd,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def one_line_error(result: subprocess.CompletedProcess, command: str) -> str:
    """The single line a failed command printed; fails the test on a traceback, more lines or exit 0."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not MAKE_FAILED.match(line)]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{command}: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def with_parcels(tmp_path_factory) -> Path:
    """A copy of the repository with the parcels resource added as a person adds one: its module, then make generate.

    The commands that need a guarded route, an index or a SEED run there, whatever resources the repository has.
    """
    repository = copy_of_the_repository(tmp_path_factory.mktemp("with-parcels"))
    shutil.copy(ROOT / "tests" / "fixtures" / "resources" / "parcels.py", repository / "handlers" / "parcels.py")
    generated = run("tools.generate", cwd=repository)
    assert generated.returncode == 0, generated.stderr
    return repository


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# make invoke


@pytest.fixture(scope="module")
def bad_events(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("events")
    (folder / "list.json").write_text("[1, 2]")
    (folder / "empty.json").write_text("{}")
    (folder / "broken.json").write_text('{"httpMethod": ')
    (folder / "latin1.json").write_bytes(b'{"path": "caf\xe9"}')
    (folder / "unrouted.json").write_text('{"httpMethod": "POST", "path": "/nowhere", "requestContext": {}}')
    (folder / "no-path.json").write_text('{"httpMethod": "GET", "requestContext": {}}')
    return folder


@pytest.mark.parametrize(
    "name, complaint",
    [
        ("missing.json", "no such file"),
        (".", "is a folder"),
        ("broken.json", "is not valid JSON: Expecting value at line 1"),
        ("list.json", "holds a JSON list, not an event object"),
        ("empty.json", "is neither an API Gateway proxy event"),
        ("no-path.json", "is neither an API Gateway proxy event"),
        ("unrouted.json", "template.yaml routes no function for POST /nowhere; it routes GET /health"),
        ("latin1.json", "is not UTF-8 text"),
        ("list.json/inside.json", "cannot be read"),
    ],
)
def test_invoke_refuses_a_bad_event_in_one_line(bad_events, name, complaint):
    result = run("tools.invoke", str(bad_events / name))
    assert complaint in one_line_error(result, "make invoke")
    assert result.stdout == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_invoke_refuses_an_unreadable_event_in_one_line(tmp_path):
    locked = tmp_path / "locked.json"
    locked.write_text("{}")
    locked.chmod(0)
    assert "permission denied" in one_line_error(run("tools.invoke", str(locked)), "make invoke")


@pytest.mark.parametrize(
    "arguments, complaint",
    [
        (["--repeat", "0"], "argument --repeat: must be at least 1"),
        (["--repeat", "twice"], "argument --repeat: must be a whole number"),
        (["--db", "new"], "argument --db: invalid choice: 'new'"),
        (["--runtime", "docker"], "argument --runtime: invalid choice: 'docker'"),
    ],
)
def test_invoke_refuses_bad_options_in_one_line(arguments, complaint):
    assert complaint in one_line_error(run("tools.invoke", "events/health.json", *arguments), "make invoke")


def test_invoke_refuses_a_bad_db_port_in_one_line():
    result = run("tools.invoke", "events/health.json", DB_PORT="abc")
    line = one_line_error(result, "make invoke")
    assert line == "make invoke: DB_PORT must be a port number from 1 to 65535, got 'abc'"


def request_lines(stdout: str) -> int:
    return stdout.count('"message":"request"')


def test_invoke_runs_the_event_once_and_says_so():
    result = run("tools.invoke", "events/health.json", MONGODB_URI="mongodb://127.0.0.1:1/")
    assert result.returncode == 0, result.stderr
    assert request_lines(result.stdout) == 1
    assert re.search(
        r"HealthFunction \(handlers\.health\.lambda_handler\): cold start [\d.]+ ms = import [\d.]+ ms "
        r"\+ first invocation [\d.]+ ms \(1 run;",
        result.stderr,
    )


def test_invoke_repeats_the_event_for_timing_when_asked():
    result = run("tools.invoke", "events/health.json", "--repeat", "3", MONGODB_URI="mongodb://127.0.0.1:1/")
    assert request_lines(result.stdout) == 3
    warm = r"; 2 warm invocation\(s\): median [\d.]+ ms, min [\d.]+ ms, max [\d.]+ ms \(3 runs"
    assert re.search(warm, result.stderr)


def test_invoke_names_its_database_without_the_credentials():
    result = run(
        "tools.invoke", "events/health.json", MONGODB_URI="mongodb://app:s3cret@127.0.0.1:1/", MONGODB_DATABASE="shop"
    )
    assert "database: mongodb://***@127.0.0.1:1/ shop (MONGODB_URI)" in result.stderr.splitlines()
    assert "s3cret" not in result.stderr + result.stdout


def test_invoke_uses_a_server_already_listening_on_db_port(mongo_uri):
    port = mongo_uri.rstrip("/").rpartition(":")[2]
    result = run("tools.invoke", "events/health.json", DB_PORT=port)
    assert f"database: mongodb://127.0.0.1:{port}/ app (a server already listening on DB_PORT {port})" in result.stderr


def test_invoke_says_the_authorizer_uses_no_database():
    result = run("tools.invoke", "events/authorizer-token.json")
    assert result.returncode == 0 and "database: none (the authorizer uses none)" in result.stderr


def invoked(result: subprocess.CompletedProcess) -> dict:
    """The answer ``make invoke`` printed."""
    return json.loads(result.stdout[result.stdout.index("{\n") :])


def test_invoke_with_db_fresh_uses_a_new_database_and_drops_it(mongo_uri, test_client, with_parcels):
    result = run(
        "tools.invoke",
        "events/parcels-post.json",
        "--db",
        "fresh",
        cwd=with_parcels,
        MONGODB_URI=mongo_uri,
        MONGODB_DATABASE="invoke",
    )
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("database: ")]
    fresh = re.search(
        r" (invoke_fresh_[0-9a-f]{8}) \(MONGODB_URI; DB=fresh: a new database, dropped at the end\)", line
    )
    assert fresh, line
    assert invoked(result)["statusCode"] == 201  # the parcel was stored in it...
    assert fresh[1] not in test_client.list_database_names()  # ...which is gone


def test_invoke_with_db_fresh_and_no_server_starts_one_on_a_temporary_folder(with_parcels):
    port = closed_port()
    result = run(
        "tools.invoke", "events/parcels.json", "--db", "fresh", cwd=with_parcels, DB_PORT=str(port), timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"database: mongodb://127.0.0.1:{port}/ app (a local server started on DB_PORT {port}; data in a "
        f"temporary folder deleted at the end (DB=fresh))"
    ) in result.stderr
    assert "seed: app is empty: storing the SEED documents of handlers/ first" in result.stderr
    listed = json.loads(invoked(result)["body"])["items"]
    assert [item["id"] for item in listed] == [str(document["_id"]) for document in parcels.SEED["parcels"]]


def test_make_invoke_passes_an_event_path_with_spaces_and_quotes(tmp_path):
    event = tmp_path / 'it\'s my "event".json'
    event.write_text((ROOT / "events/health.json").read_text())
    result = make("invoke", f"EVENT={event}", MONGODB_URI="mongodb://127.0.0.1:1/")
    assert result.returncode == 0, result.stderr
    assert '"statusCode": 200' in result.stdout


def test_invoke_outside_the_local_stage_refuses_a_local_token_event_in_one_line(tmp_path):
    event = json.loads((ROOT / "events/health.json").read_text())
    event["headers"]["Authorization"] = "Bearer {{LOCAL_TOKEN}}"
    (tmp_path / "guarded.json").write_text(json.dumps(event))
    line = one_line_error(run("tools.invoke", str(tmp_path / "guarded.json"), STAGE="prod"), "make invoke")
    assert line == (
        f"make invoke: {tmp_path / 'guarded.json'} asks for a local token "
        "({{LOCAL_TOKEN}}), and local tokens are for STAGE=local only, but STAGE is 'prod': unset STAGE, or put a "
        "token valid at 'prod' in the event instead of {{LOCAL_TOKEN}}"
    )


# Every setting shared/config.py checks, with a value it refuses and what it says.
BAD_SETTINGS = [
    (
        "MONGODB_URI",
        "notauri",
        "MONGODB_URI must start with mongodb:// or mongodb+srv:// (or be a secret reference: "
        "arn:...:secret:... or ssm:/name), got a value starting 'notauri'",
    ),
    ("MONGODB_TIMEOUT_MS", "5", "MONGODB_TIMEOUT_MS must be between 100 and 60000, got 5"),
    ("MONGODB_MAX_POOL_SIZE", "0", "MONGODB_MAX_POOL_SIZE must be between 1 and 100, got 0"),
    ("MAX_BODY_BYTES", "lots", "MAX_BODY_BYTES must be an integer, got 'lots'"),
    ("USERS_CACHE_TTL_SECONDS", "-1", "USERS_CACHE_TTL_SECONDS must be between 0 and 3600, got -1"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
    ("LOCAL_AUTH", "maybe", "LOCAL_AUTH must be true or false, got 'maybe'"),
    ("CORS_ALLOW_CREDENTIALS", "maybe", "CORS_ALLOW_CREDENTIALS must be true or false, got 'maybe'"),
    (
        "CORS_ALLOW_ORIGINS",
        "app.example.com",
        "CORS_ALLOW_ORIGINS entries must look like https://app.example.com, got 'app.example.com'",
    ),
]


@pytest.mark.parametrize("variable, value, complaint", BAD_SETTINGS)
def test_invoke_prints_the_answer_then_names_a_bad_setting_in_one_line_and_exits_1(variable, value, complaint):
    env = {"MONGODB_URI": "mongodb://127.0.0.1:1/", variable: value}
    result = run("tools.invoke", "events/health.json", **env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert '"statusCode": 500' in result.stdout
    assert result.stderr.splitlines()[-1] == (
        f"make invoke: HealthFunction answered 500: ConfigError: {complaint}: "
        f"set it right in your shell or in the template's Environment, or "
        f"unset it for its default"
    )


def test_invoke_on_rie_names_a_bad_setting_in_one_line_and_exits_1_too():
    result = run(
        "tools.invoke", "events/health.json", "--runtime", "rie", MONGODB_URI="mongodb://127.0.0.1:1/", LOG_LEVEL="LOUD"
    )
    assert result.returncode == 1 and '"statusCode": 500' in result.stdout, result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "make invoke: HealthFunction answered 500: ConfigError: LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR"
    )


def test_invoke_exits_1_when_the_database_is_unavailable_and_says_so():
    result = run(
        "tools.invoke",
        "events/health-deep.json",
        MONGODB_URI=f"mongodb://127.0.0.1:{closed_port()}/",
        MONGODB_TIMEOUT_MS="200",
    )
    assert result.returncode == 1 and '"statusCode": 503' in result.stdout
    assert result.stderr.splitlines()[-1] == (
        "make invoke: HealthFunction answered 503: database unavailable: ServerSelectionTimeoutError"
    )


def test_invoke_exits_0_when_the_authorizer_refuses_a_token(tmp_path):
    event = json.loads((ROOT / "events/authorizer-token.json").read_text())
    event["authorizationToken"] = "Bearer not-a-token"
    path = tmp_path / "refused.json"
    path.write_text(json.dumps(event))
    result = run("tools.invoke", str(path))
    assert result.returncode == 0, result.stderr
    assert '"raised": "Unauthorized: Unauthorized"' in result.stdout


# make serve


@pytest.mark.parametrize(
    "arguments, complaint",
    [
        (["--port", "abc"], "argument --port: must be a whole number, got 'abc'"),
        (["--port", "99999"], "argument --port: must be a port number from 1 to 65535, got '99999'"),
        (["--port", "0"], "argument --port: must be a port number from 1 to 65535, got '0'"),
        (["--workers", "0"], "argument --workers: must be at least 1, got '0'"),
        (["--workers", "abc"], "argument --workers: must be a whole number, got 'abc'"),
        (["--runtime", "docker"], "argument --runtime: invalid choice: 'docker' (choose from 'python', 'rie')"),
        (["--logs", "loud"], "argument --logs: invalid choice: 'loud'"),
        (["--db", "new"], "argument --db: invalid choice: 'new'"),
    ],
)
def test_serve_refuses_bad_options_in_one_line(arguments, complaint):
    assert complaint in one_line_error(run("tools.gateway", *arguments), "make serve")


def test_serve_on_a_port_in_use_says_so_in_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line_error(run("tools.gateway", "--port", str(port)), "make serve")
    assert line.startswith(f"make serve: port {port} is already in use (another make serve?)")


def test_make_serve_passes_bad_variables_through_to_one_line():
    result = make("serve", "PORT=abc", "WORKERS=2")
    assert "argument --port: must be a whole number, got 'abc'" in one_line_error(result, "make serve")


@pytest.mark.parametrize("variables, state", [([], "reload on"), (["RELOAD=0"], "reload off")])
def test_make_serve_reloads_unless_reload_is_0(variables, state):
    command = ["make", "-s", "-o", ".venv/.installed", "serve", f"PORT={closed_port()}", *variables]
    env = clean_environment(MONGODB_URI="mongodb://127.0.0.1:1/")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        first = process.stderr.readline()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert first.rstrip().endswith(f", logs human, {state})"), first


def test_serve_with_a_production_stage_and_a_bad_database_uri_says_each_in_one_line(tmp_path, with_parcels):
    from tests.fixtures.gateway_server import LocalGateway

    env = {**clean_environment(), "STAGE": "prod", "MONGODB_URI": "notauri"}
    gateway = LocalGateway(tmp_path / "gateway.log", env=env, cwd=with_parcels)
    try:
        answer = gateway.request("GET", "/health")
        assert (answer.status, answer.header("content-type")) == (500, "application/problem+json")
        token = subprocess.run(
            [sys.executable, "-m", "tools.local_token"],
            cwd=ROOT,
            env=clean_environment(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert gateway.request("GET", "/parcels", {"Authorization": f"Bearer {token}"}).status == 500
    finally:
        gateway.stop()
    log = gateway.log()
    assert "Traceback" not in log
    assert (
        "STAGE=prod from your shell overrides the stage local for the functions: outside STAGE=local they refuse "
        "the local development secret and local tokens"
    ) in log
    [health] = [line for line in log.splitlines() if " GET /health 500 " in line]
    assert health.endswith(
        "; ConfigError: MONGODB_URI must start with mongodb:// or mongodb+srv:// (or be a secret "
        "reference: arn:...:secret:... or ssm:/name), got a value starting 'notauri')"
    )
    [guarded] = [line for line in log.splitlines() if " GET /parcels 500 " in line]
    assert "ConfigError: JWT_SECRET or JWT_JWKS_URL must be set when STAGE is 'prod'" in guarded


# make token


def test_make_token_takes_a_sub_with_a_double_quote():
    result = make("token", 'SUB=al"ice', "TTL=60")
    assert result.returncode == 0, result.stderr
    assert tokens.verify_authorization(f"Bearer {result.stdout.strip()}")["sub"] == 'al"ice'


@pytest.mark.parametrize(
    "variables, complaint",
    [
        (["TTL=abc"], "TTL must be a whole number of seconds, got 'abc'"),
        (["TTL=0"], "TTL must be between 1 and 604800 seconds, got 0"),
        (["SUB=team/alice"], "SUB must fit in one URL path segment"),
        (["SUB="], "SUB must be a non-empty string"),
        (['SCOPE=profile:"read"'], "SCOPE must be space-separated scope names"),
    ],
)
def test_make_token_refuses_bad_variables_in_one_line(variables, complaint):
    result = make("token", *variables)
    assert complaint in one_line_error(result, "make token")
    assert result.stdout == ""


def test_token_refuses_a_sub_with_surrounding_spaces_in_one_line():
    result = run("tools.local_token", "--sub", " alice")
    assert "SUB must not start or end with spaces" in one_line_error(result, "make token")


def test_make_token_outside_the_local_stage_refuses_in_one_line():
    result = make("token", STAGE="prod")
    assert "local tokens are for STAGE=local only" in one_line_error(result, "make token")


@pytest.mark.parametrize(
    "variables, warning",
    [
        (
            {"JWT_SECRET": "a-secret-of-the-developer-that-is-long-enough"},
            "JWT_SECRET is set, so the authorizer verifies "
            "with it, not with the local development secret: the authorizer of `make serve` or `make invoke` "
            "run from this environment will refuse this token (401); unset JWT_SECRET to use local tokens",
        ),
        (
            {"JWT_JWKS_URL": "https://issuer.example.com/jwks.json"},
            "JWT_JWKS_URL is set, so the authorizer verifies with the keys at https://issuer.example.com/jwks.json",
        ),
        (
            {"JWT_ISSUER": "https://auth.example.com/"},
            "this token carries iss=https://auth.example.com/ instead of bare-api-local",
        ),
        ({"JWT_AUDIENCE": "my-api"}, "this token carries aud=my-api instead of bare-api-local"),
        ({"JWT_ALGORITHMS": "HS512"}, "JWT_ALGORITHMS=HS512 leaves out HS256"),
        ({"JWT_MAX_LIFETIME_SECONDS": "600"}, "JWT_MAX_LIFETIME_SECONDS=600 is less than TTL=3600"),
    ],
)
def test_make_token_warns_about_settings_the_local_authorizer_will_not_use_for_it(variables, warning):
    result = make("token", **variables)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", result.stdout)
    [line] = result.stderr.splitlines()
    assert line.startswith("make token: warning: ") and warning in line


def test_make_token_in_a_clean_environment_warns_about_nothing():
    result = make("token")
    assert (result.returncode, result.stderr) == (0, "")


# make indexes


@pytest.mark.parametrize(
    "env, complaint",
    [
        ({"MONGODB_URI": "localhost"}, "MONGODB_URI must start with mongodb:// or mongodb+srv://"),
        ({"MONGODB_URI": "mongodb://"}, "MONGODB_URI is not a usable connection string"),
        ({"MONGODB_URI": "mongodb://127.0.0.1/", "MONGODB_TIMEOUT_MS": "5"}, "MONGODB_TIMEOUT_MS must be between"),
    ],
)
def test_indexes_refuses_a_bad_setting_in_one_line(env, complaint):
    assert complaint in one_line_error(run("tools.indexes", **env), "make indexes")


def test_indexes_on_an_unreachable_database_fails_in_one_line_within_its_timeout(with_parcels):
    uri = f"mongodb://app:s3cret@127.0.0.1:{closed_port()}/"
    result = run("tools.indexes", cwd=with_parcels, MONGODB_URI=uri, MONGODB_TIMEOUT_MS="300", timeout=30)
    line = one_line_error(result, "make indexes")
    assert line.endswith("no answer within MONGODB_TIMEOUT_MS=300 ms") and "s3cret" not in line


def test_make_indexes_creates_the_indexes(mongo_uri, with_parcels):
    database = f"test_indexes_{uuid.uuid4().hex[:8]}"
    result = make("indexes", cwd=with_parcels, MONGODB_URI=mongo_uri, MONGODB_DATABASE=database)
    assert result.returncode == 0, result.stderr
    for index in parcels.INDEXES["parcels"]:
        assert f"index ready: {database}.{index.document['name']}" in result.stdout
    with pymongo.MongoClient(mongo_uri) as client:
        client.drop_database(database)


# make seed


def test_seed_on_an_unreachable_database_fails_in_one_line_within_its_timeout(with_parcels):
    uri = f"mongodb://app:s3cret@127.0.0.1:{closed_port()}/"
    result = run("tools.seed", cwd=with_parcels, MONGODB_URI=uri, MONGODB_TIMEOUT_MS="300", timeout=30)
    line = one_line_error(result, "make seed")
    assert line.startswith("make seed: cannot store the SEED documents on mongodb://") and "s3cret" not in line


def test_make_seed_refuses_a_bad_db_port_in_one_line():
    line = one_line_error(make("seed", DB_PORT="abc"), "make seed")
    assert line == "make seed: DB_PORT must be a port number from 1 to 65535, got 'abc'"


def test_make_seed_stores_the_seed_documents(mongo_uri, with_parcels):
    database = f"test_seed_{uuid.uuid4().hex[:8]}"
    result = make("seed", cwd=with_parcels, MONGODB_URI=mongo_uri, MONGODB_DATABASE=database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("seed: ") and "stored" in result.stdout
    with pymongo.MongoClient(mongo_uri) as client:
        stored = list(client[database]["parcels"].find({}, {"_id": 1}))
        client.drop_database(database)
    assert stored == [{"_id": document["_id"]} for document in parcels.SEED["parcels"]]


# make db, make soak and the benchmark commands: a bad argument is one line, before anything starts


@pytest.mark.parametrize(
    "module, arguments, command, reason",
    [
        ("tools.localdb", ("serve", "--port", "abc"), "make db", "argument --port: must be a whole number, got 'abc'"),
        ("tools.localdb", ("serve", "--port", "99999"), "make db", "argument --port: must be a port number"),
        ("tools.soak", ("--duration", "abc"), "make soak", "argument --duration: invalid float value: 'abc'"),
        ("tools.soak", ("--clients", "0"), "make soak", "argument --clients: must be at least 1, got '0'"),
        ("bench.run", ("--cold-samples", "0"), "make bench", "argument --cold-samples: must be at least 1, got '0'"),
        ("bench.run", ("--warm-count", "x"), "make bench", "argument --warm-count: must be a whole number, got 'x'"),
        (
            "bench.instructions",
            ("--events", "events/nope.json"),
            "bench-instructions",
            "no event file matches 'events/nope.json'",
        ),
        (
            "bench.http_load",
            ("--url", "http://127.0.0.1:1/", "--requests", "abc"),
            "make bench-http",
            "argument --requests: must be a whole number, got 'abc'",
        ),
        (
            "bench.lambda_bench",
            ("--function", "MeFunction", "--count", "0"),
            "make bench-lambda",
            "argument --count: must be at least 1, got '0'",
        ),
    ],
)
def test_a_bad_argument_of_a_long_running_command_is_one_line(module, arguments, command, reason):
    line = one_line_error(run(module, *arguments), command)
    assert line.startswith(f"{command}: {reason}"), line


def test_make_db_with_a_port_that_is_no_number_is_one_line():
    assert one_line_error(make("db", DB_PORT="abc"), "make db") == (
        "make db: argument --port: must be a whole number, got 'abc'"
    )
