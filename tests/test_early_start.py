"""The early start: secret fetch and database connection begin before the first request, which waits for them.

Against the real pieces: moto's server for the secret, the session's database
server behind a TCP proxy that counts connections (and can add a delay).
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import authorizer
from bench.netdelay import DelayProxy
from shared import db, early, early_db, secrets
from tests import tokenkit
from tests.awskit import ACCOUNT, REGION, create_secret
from tests.startkit import database_request, eventually, wait_for_early_start

MISSING = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:not-yet"


@pytest.fixture
def proxied_database(mongo_port):
    """A URI of the session's database through a proxy that counts connections; the proxy."""
    proxy = DelayProxy(mongo_port)
    yield f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true", proxy
    proxy.close()


def test_the_secret_is_fetched_and_a_connection_opened_before_any_request(aws, environment, proxied_database):
    uri, proxy = proxied_database
    arn = create_secret(aws, "db", uri)
    environment(MONGODB_URI=arn, MONGODB_DATABASE="early_start")
    early_db.start()
    wait_for_early_start()
    assert secrets.wait(arn)
    assert db._client is not None and eventually(lambda: proxy.connections == 1)  # the client's monitor
    assert database_request() == 200
    assert proxy.connections == 2  # and the request opened the pooled connection it used


def test_a_request_during_the_early_start_waits_for_it_and_opens_no_connection_of_its_own(aws, environment, mongo_port):
    slow = DelayProxy(mongo_port, delay=0.05)
    try:
        environment(
            MONGODB_URI=create_secret(aws, "db", f"mongodb://127.0.0.1:{slow.port}/?directConnection=true"),
            MONGODB_DATABASE="early_start",
        )
        early_db.start()
        assert database_request() == 200
        assert slow.connections == 2
    finally:
        slow.close()


def test_a_plain_uri_is_connected_early_too(environment, proxied_database):
    uri, proxy = proxied_database
    environment(MONGODB_URI=uri, MONGODB_DATABASE="early_start")
    early_db.start()
    wait_for_early_start()
    assert eventually(lambda: proxy.connections == 1) and database_request() == 200 and proxy.connections == 2


def test_under_provisioned_concurrency_the_first_pooled_connection_is_opened_early_too(
    environment, proxied_database, monkeypatch
):
    uri, proxy = proxied_database
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    environment(MONGODB_URI=uri, MONGODB_DATABASE="early_start")
    early_db.start()
    wait_for_early_start()
    assert proxy.connections == 2 and database_request() == 200 and proxy.connections == 2  # nothing more to open


def test_without_a_database_uri_nothing_starts(environment, monkeypatch):
    monkeypatch.delenv("MONGODB_URI", raising=False)
    environment()
    before = {thread.name for thread in threading.enumerate()}
    early_db.start()
    assert {thread.name for thread in threading.enumerate()} - before == set()
    assert db._client is None


def test_a_failed_early_fetch_is_the_first_requests_503_and_the_next_request_fetches_again(
    aws, environment, proxied_database
):
    uri, proxy = proxied_database
    environment(MONGODB_URI=MISSING, MONGODB_DATABASE="early_start")
    early_db.start()
    wait_for_early_start()
    assert proxy.connections == 0
    assert database_request() == 503
    create_secret(aws, "not-yet", uri)
    assert database_request() == 200


def test_the_authorizer_prefetches_its_signing_secret(aws, configure):
    arn = create_secret(aws, "jwt", "s" * 48)
    configure(STAGE="dev", JWT_SECRET=arn, JWT_ISSUER=tokenkit.ISSUER, JWT_AUDIENCE=tokenkit.AUDIENCE)
    early.secret("JWT_SECRET")
    assert secrets.wait(arn)
    token = tokenkit.sign(tokenkit.claims(iss=tokenkit.ISSUER, aud=tokenkit.AUDIENCE), key="s" * 48)
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/dev/GET/me",
    }
    assert authorizer.lambda_handler(event, None)["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_a_failed_prefetch_of_the_signing_secret_fails_the_first_call_and_the_next_fetches_again(aws, configure):
    configure(STAGE="dev", JWT_SECRET=MISSING, JWT_ISSUER=tokenkit.ISSUER, JWT_AUDIENCE=tokenkit.AUDIENCE)
    early.secret("JWT_SECRET")
    token = tokenkit.sign(tokenkit.claims(iss=tokenkit.ISSUER, aud=tokenkit.AUDIENCE), key="s" * 48)
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/dev/GET/me",
    }
    with pytest.raises(authorizer.AuthorizerFailure):
        authorizer.lambda_handler(event, None)
    create_secret(aws, "not-yet", "s" * 48)
    assert authorizer.lambda_handler(event, None)["principalId"] == "alice"


def test_in_a_fresh_process_the_client_exists_when_the_handler_has_imported(aws, mongo_uri, tmp_path):
    probe = (  # a handler module's first lines start early, then it imports the database module
        "import threading\n"
        "from shared import early_db\n"
        "early_db.start()\n"
        "import tests.fixtures.resources.parcels, shared.db\n"
        "print(shared.db._client is not None, [t.name for t in threading.enumerate() if t.name == 'db-connect'])"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "MONGODB_URI": create_secret(aws, "db", mongo_uri),
    }
    answer = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert answer.stdout.strip() == "True []", answer.stderr


def test_the_client_monitors_the_server_by_polling_as_the_driver_does_on_lambda(database):
    assert db.client().options.server_monitoring_mode == "poll"
