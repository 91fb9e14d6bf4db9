"""SnapStart: nothing connects or fetches before the snapshot; the after-restore hook does it, then requests work.

The hooks are registered with ``snapshot_restore_py`` (the library Lambda's
Python runtime ships, installed here from PyPI) and run by awslambdaric's own
hook runner, in the order its bootstrap runs them: init, before-snapshot hooks,
the snapshot, after-restore hooks, then invocations.
"""

import sys
from urllib.parse import urlsplit

import pytest
import snapshot_restore_py
from awslambdaric import lambda_runtime_hooks_runner

from bench.netdelay import DelayProxy
from shared import db, early, early_db, secrets
from tests.awskit import ACCOUNT, REGION, create_secret
from tests.startkit import database_request, eventually, wait_for_early_start


@pytest.fixture
def snap_start(monkeypatch, aws, mongo_port):
    """SnapStart's initialization, a proxy counting connections to the database and one counting calls to AWS."""
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    database = DelayProxy(mongo_port)
    endpoint = DelayProxy(urlsplit(aws).port)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{endpoint.port}")
    yield f"mongodb://127.0.0.1:{database.port}/?directConnection=true", database, endpoint
    snapshot_restore_py.get_before_snapshot().clear()
    snapshot_restore_py.get_after_restore().clear()
    database.close()
    endpoint.close()


def test_before_the_snapshot_nothing_is_fetched_or_connected(snap_start, aws, environment):
    uri, database, endpoint = snap_start
    environment(MONGODB_URI=create_secret(aws, "db", uri), MONGODB_DATABASE="snap_start")
    early_db.start()
    wait_for_early_start()
    lambda_runtime_hooks_runner.run_before_snapshot()
    assert (database.connections, endpoint.connections, db._client) == (0, 0, None)


def test_after_the_restore_the_hook_fetches_and_connects_and_requests_use_it(snap_start, aws, environment):
    uri, database, endpoint = snap_start
    arn = create_secret(aws, "db", uri)
    environment(MONGODB_URI=arn, MONGODB_DATABASE="snap_start")
    early_db.start()
    lambda_runtime_hooks_runner.run_before_snapshot()
    lambda_runtime_hooks_runner.run_after_restore()
    wait_for_early_start()
    assert endpoint.connections == 1 and db._client is not None and eventually(lambda: database.connections == 1)
    assert database_request() == 200 and database.connections == 2


def test_a_client_made_during_init_is_closed_before_the_snapshot(snap_start, aws, environment):
    uri, _, _ = snap_start
    arn = create_secret(aws, "db", uri)
    environment(MONGODB_URI=arn, MONGODB_DATABASE="snap_start")
    early_db.start()
    db.client().admin.command("ping")  # something connected during init, against the advice
    lambda_runtime_hooks_runner.run_before_snapshot()
    assert db._client is None and not secrets.wait(arn)
    lambda_runtime_hooks_runner.run_after_restore()
    assert database_request() == 200


def test_a_request_that_comes_before_the_restore_hook_finished_waits_for_it(snap_start, aws, environment, mongo_port):
    slow = DelayProxy(mongo_port, delay=0.05)
    try:
        environment(
            MONGODB_URI=create_secret(aws, "db", f"mongodb://127.0.0.1:{slow.port}/?directConnection=true"),
            MONGODB_DATABASE="snap_start",
        )
        early_db.start()
        lambda_runtime_hooks_runner.run_before_snapshot()
        lambda_runtime_hooks_runner.run_after_restore()
        assert database_request() == 200 and slow.connections == 2
    finally:
        slow.close()


def test_a_secret_that_fails_after_the_restore_is_a_503_then_the_next_request_fetches_again(
    snap_start, aws, environment
):
    uri, _, _ = snap_start
    environment(MONGODB_URI=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:later", MONGODB_DATABASE="snap_start")
    early_db.start()
    lambda_runtime_hooks_runner.run_before_snapshot()
    lambda_runtime_hooks_runner.run_after_restore()
    assert database_request() == 503
    create_secret(aws, "later", uri)
    assert database_request() == 200


def test_the_authorizers_secret_is_fetched_only_after_the_restore(snap_start, aws, configure, monkeypatch):
    _, _, endpoint = snap_start
    arn = create_secret(aws, "jwt", "s" * 48)
    configure(STAGE="dev", JWT_SECRET=arn, JWT_ISSUER="https://issuer.example.com/")
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    early.secret("JWT_SECRET")
    lambda_runtime_hooks_runner.run_before_snapshot()
    assert endpoint.connections == 0
    lambda_runtime_hooks_runner.run_after_restore()
    assert secrets.wait(arn) and endpoint.connections == 1


def test_without_the_runtimes_hook_library_nothing_starts_early(snap_start, aws, environment, monkeypatch):
    uri, database, endpoint = snap_start
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # as if it were not installed
    environment(MONGODB_URI=create_secret(aws, "db", uri), MONGODB_DATABASE="snap_start")
    early_db.start()
    wait_for_early_start()
    assert (database.connections, endpoint.connections) == (0, 0)
    assert database_request() == 200
