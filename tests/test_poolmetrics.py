"""The pool's events and the secret fetches, on the request line of each database function."""

import json
import threading

import pytest

from shared import db, poolmetrics, secrets
from tests.apigw import rest_authorizer, rest_event
from tests.fixtures.resources import parcels
from tools import localdb, loopback

POOL_METRICS = {name for name, _ in poolmetrics.METRICS}


def request_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if '"message":"request"' in line]


def list_parcels() -> int:
    """The status of a database function's request: the fixture resource's GET /parcels."""
    return parcels.lambda_handler(rest_event("GET", "/parcels", authorizer=rest_authorizer()), None)["statusCode"]


@pytest.fixture(autouse=True)
def counts_from_zero():
    """Counts left by earlier tests' clients belong to none of these lines."""
    poolmetrics.listener.take({})
    secrets.take_fetch_count({})


def test_the_first_request_counts_the_connection_it_opened_and_the_next_reuses_it(database, capsys):
    assert (list_parcels(), list_parcels()) == (200, 200)
    first, second = request_lines(capsys.readouterr().out)
    assert (first["PoolConnectionsCreated"], first["PoolConnections"]) == (1, 1)
    assert (second["PoolConnectionsCreated"], second["PoolConnections"]) == (0, 1)
    assert first["PoolCleared"] == second["PoolCleared"] == 0


def test_checkout_wait_is_milliseconds_within_the_request(database, capsys):
    list_parcels()
    [line] = request_lines(capsys.readouterr().out)
    assert 0 <= line["PoolCheckoutWait"] <= line["Latency"]


def test_pool_and_secret_metrics_are_declared_per_function_in_the_metrics_block(database, capsys):
    list_parcels()
    [line] = request_lines(capsys.readouterr().out)
    declared = {
        metric["Name"]: directive["Dimensions"]
        for directive in line["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
    assert POOL_METRICS | {"SecretFetches"} <= set(declared) and set(line) >= POOL_METRICS
    assert all(declared[name] == [["function"]] for name in POOL_METRICS | {"SecretFetches"})


def test_a_full_pool_shares_its_connections_instead_of_opening_more(database, environment, mongo_uri, capsys):
    environment(MONGODB_URI=mongo_uri, MONGODB_DATABASE=database.name, MONGODB_MAX_POOL_SIZE="1")
    list_parcels()
    threads = [threading.Thread(target=lambda: [list_parcels() for _ in range(10)]) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = request_lines(capsys.readouterr().out)
    assert sum(line["PoolConnectionsCreated"] for line in lines) == 1  # one connection, shared in turn
    assert max(line["PoolConnections"] for line in lines) == 1


@pytest.fixture
def own_server(tmp_path, environment):
    port = loopback.free_port()
    process = localdb.start(port, tmp_path / "data")
    environment(MONGODB_URI=f"mongodb://127.0.0.1:{port}/", MONGODB_TIMEOUT_MS="500")
    yield process
    process.kill()
    process.wait()


def test_a_lost_database_is_counted_as_a_pool_clear(own_server, capsys):
    assert list_parcels() == 200
    own_server.kill()
    own_server.wait()
    assert list_parcels() == 503
    _, failed = request_lines(capsys.readouterr().out)
    assert failed["PoolCleared"] >= 1 and failed["PoolConnections"] == 0


def test_a_secret_fetch_is_counted_once_on_the_line_of_the_request_that_made_it(aws, environment, mongo_uri, capsys):
    from tests.awskit import create_secret

    arn = create_secret(aws, "pool-metrics-db", mongo_uri)
    secrets.forget()
    environment(MONGODB_URI=arn, MONGODB_DATABASE="poolmetrics_test")
    assert (list_parcels(), list_parcels()) == (200, 200)
    first, second = request_lines(capsys.readouterr().out)
    assert (first["SecretFetches"], second["SecretFetches"]) == (1, 0)


def test_the_client_closes_pooled_connections_idle_longer_than_the_setting(database, environment, mongo_uri):
    environment(MONGODB_URI=mongo_uri, MONGODB_DATABASE=database.name, MONGODB_MAX_IDLE_TIME_MS="2500")
    assert db.client().options.pool_options.max_idle_time_seconds == 2.5
