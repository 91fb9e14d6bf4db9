"""Database faults: a stopped, restarted or unreachable server gives a fast 503, then recovery."""

import time

import pytest

from bench.netdelay import DelayProxy
from shared import db, secrets
from tests.apigw import parsed, rest_authorizer, rest_event
from tests.fixtures.resources import parcels
from tools import localdb, loopback

TIMEOUT_MS = 500
LINE = {"sku": "SKU-1", "quantity": 1, "price": 2.5}


@pytest.fixture
def own_server(tmp_path, environment):
    """A server of this test's own, which the test may stop and restart on the same port and data."""
    port = loopback.free_port()
    data_dir = tmp_path / "data"
    process = localdb.start(port, data_dir)
    environment(MONGODB_URI=f"mongodb://127.0.0.1:{port}/", MONGODB_TIMEOUT_MS=str(TIMEOUT_MS))
    server = {"process": process}

    def stop():  # killed, as in a crash: the driver gets no goodbye
        server["process"].kill()
        server["process"].wait()

    def restart():
        server["process"] = localdb.start(port, data_dir)

    yield stop, restart
    stop()


def call(method: str, path: str, body: dict | None = None):
    """The parsed answer of the fixture resource to an authorized caller's request, and how long it took."""
    started = time.monotonic()
    event = rest_event(method, path, body=body, authorizer=rest_authorizer())
    result = parsed(parcels.lambda_handler(event, None))
    return result, time.monotonic() - started


def list_parcels():
    return call("GET", "/parcels")


def test_stopped_database_gives_503_within_the_timeout(own_server):
    stop, _ = own_server
    assert list_parcels()[0][0] == 200
    stop()
    (status, headers, problem), elapsed = list_parcels()
    assert status == 503 and headers["retry-after"] == "1"
    assert problem["type"].endswith("/dependency-unavailable")
    assert elapsed < TIMEOUT_MS / 1000 + 1.5


def test_restarted_database_serves_the_next_request_with_the_same_client(own_server):
    stop, restart = own_server
    (status, _, parcel), _ = call("POST", "/parcels", {"recipient": "Bob", "lines": [LINE]})
    assert status == 201
    client = db.client()
    stop()
    assert list_parcels()[0][0] == 503
    restart()
    (status, _, body), _ = list_parcels()
    assert (status, [item["id"] for item in body["items"]]) == (200, [parcel["id"]])
    assert db.client() is client


def test_unreachable_database_never_hangs(environment):
    environment(MONGODB_URI="mongodb://192.0.2.1:27017/", MONGODB_TIMEOUT_MS=str(TIMEOUT_MS))
    (status, _, _), elapsed = list_parcels()
    assert status == 503
    assert elapsed < TIMEOUT_MS / 1000 + 1.5


def test_problem_never_shows_the_driver_message(environment):
    environment(MONGODB_URI="mongodb://user:hunter2@127.0.0.1:1/", MONGODB_TIMEOUT_MS=str(TIMEOUT_MS))
    (status, _, problem), _ = list_parcels()
    assert status == 503
    assert "hunter2" not in str(problem) and "127.0.0.1" not in str(problem)


def test_database_warning_log_redacts_credentials(environment, capsys):
    environment(MONGODB_URI="mongodb://user:hunter2@127.0.0.1:1/", MONGODB_TIMEOUT_MS=str(TIMEOUT_MS))
    list_parcels()
    log = capsys.readouterr().out
    assert "database unavailable" in log and "hunter2" not in log


def test_missing_uri_is_a_500_that_names_nothing(environment, capsys, monkeypatch):
    monkeypatch.delenv("MONGODB_URI", raising=False)
    environment()
    (status, _, problem), _ = list_parcels()
    assert status == 500 and "MONGODB_URI" not in str(problem)
    assert "MONGODB_URI is not set" in capsys.readouterr().out


def test_stalled_database_gives_503_within_the_timeout_then_recovers(mongo_port, environment):
    proxy = DelayProxy(mongo_port)
    environment(
        MONGODB_URI=f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true",
        MONGODB_TIMEOUT_MS=str(TIMEOUT_MS),
        MONGODB_DATABASE="stall_test",
    )
    try:
        assert list_parcels()[0][0] == 200
        proxy.stalled.set()
        (status, _, _), elapsed = list_parcels()
        assert status == 503
        assert elapsed < TIMEOUT_MS / 1000 + 1.5
        proxy.stalled.clear()
        assert list_parcels()[0][0] == 200
    finally:
        proxy.close()
        db.client().drop_database("stall_test")


# TLS verification


@pytest.mark.parametrize(
    "option", ["tlsInsecure=true", "tlsAllowInvalidCertificates=true", "TLSALLOWINVALIDHOSTNAMES=true"]
)
def test_a_uri_that_turns_off_certificate_verification_is_refused(environment, capsys, option):
    environment(MONGODB_URI=f"mongodb://127.0.0.1:1/?tls=true&{option}", MONGODB_TIMEOUT_MS=str(TIMEOUT_MS))
    (status, _, _), _ = list_parcels()
    assert status == 500
    assert "turns off TLS certificate verification" in capsys.readouterr().out


# Rotation: the database refuses the credentials of a URI fetched from a secret


def refused_and_accepted(mongo_uri: str) -> tuple[str, str]:
    """Two URIs of the session's server: one whose credentials it refuses (error 18), one it accepts.

    Both servers the suite runs on refuse the first with AuthenticationFailed: the
    local one (FerretDB with SQLite) refuses SCRAM, the driver's default, for the
    mechanism; a mongod without access control (the CI service), for the unknown
    user. Both accept the second, which names no user: the rotated value.
    """
    host = mongo_uri.removeprefix("mongodb://").rstrip("/")
    return (f"mongodb://old:hunter2@{host}/?directConnection=true", f"mongodb://{host}/?directConnection=true")


@pytest.fixture
def rotation(aws, environment, mongo_uri, monkeypatch):
    """A secret holding refused credentials, already fetched by the container; the local AWS URL and its ARN."""
    from tests.awskit import create_secret

    refused, _ = refused_and_accepted(mongo_uri)
    arn = create_secret(aws, "db", refused)
    # The default timeout: longer than the driver's wait (0.5 s) to check a server again after it refused a
    # handshake, so that each request meets the refusal itself rather than a server not yet selectable.
    environment(MONGODB_URI=arn, MONGODB_DATABASE="rotation_test")
    monkeypatch.setattr(db, "_renewed_at", -db.RENEW_INTERVAL_SECONDS)
    assert secrets.resolve(arn) == refused
    return aws, arn


def test_refused_credentials_are_a_503_that_names_nothing(rotation, capsys):
    (status, headers, problem), _ = list_parcels()
    assert status == 503 and headers["retry-after"] == "1"
    assert "hunter2" not in str(problem) and "hunter2" not in capsys.readouterr().out


def test_after_a_rotation_the_secret_is_fetched_again_and_the_next_request_uses_it(rotation, mongo_uri):
    from tests.awskit import seed

    aws, arn = rotation
    _, accepted = refused_and_accepted(mongo_uri)
    seed("secretsmanager", aws).put_secret_value(SecretId=arn, SecretString=accepted)
    assert list_parcels()[0][0] == 503
    assert secrets.resolve(arn) == accepted
    assert list_parcels()[0][0] == 200


def test_the_secret_is_fetched_again_at_most_once_per_interval(rotation, mongo_uri, monkeypatch):
    from tests.awskit import seed

    aws, arn = rotation
    _, accepted = refused_and_accepted(mongo_uri)
    fetches = []
    monkeypatch.setattr(secrets, "fetch", lambda value, fetch=secrets.fetch: fetches.append(value) or fetch(value))
    assert list_parcels()[0][0] == 503  # fetched again: still the refused value
    seed("secretsmanager", aws).put_secret_value(SecretId=arn, SecretString=accepted)
    assert list_parcels()[0][0] == 503  # refused again within the interval: not fetched
    assert fetches == [arn]
    monkeypatch.setattr(db, "_renewed_at", -db.RENEW_INTERVAL_SECONDS)  # the interval has passed
    assert list_parcels()[0][0] == 503
    assert list_parcels()[0][0] == 200
    assert fetches == [arn, arn]


def test_refused_credentials_in_a_plain_uri_fetch_nothing(environment, mongo_uri, monkeypatch):
    refused, _ = refused_and_accepted(mongo_uri)
    environment(MONGODB_URI=refused, MONGODB_TIMEOUT_MS=str(TIMEOUT_MS))
    monkeypatch.setattr(secrets, "fetch", lambda value: pytest.fail("nothing to fetch"))
    assert list_parcels()[0][0] == 503
