"""GET /health: liveness without the database, and the deep check."""

import subprocess
import sys

import pytest

from handlers import health
from tests.apigw import http_event, parsed, rest_event
from tests.conftest import ROOT


def test_shallow_health_is_200_without_a_database(environment):
    environment(MONGODB_URI="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100")
    status, headers, body = parsed(health.lambda_handler(rest_event("GET", "/health"), None))
    assert (status, body) == (200, {"status": "ok"})
    assert headers["cache-control"] == "no-store"


def test_deep_health_pings_the_database(database):
    status, _, body = parsed(health.lambda_handler(rest_event("GET", "/health", query={"deep": "true"}), None))
    assert (status, body) == (200, {"status": "ok", "database": "ok"})


def test_deep_health_with_the_database_down_is_503_with_retry_after(environment):
    environment(MONGODB_URI="mongodb://127.0.0.1:1/", MONGODB_TIMEOUT_MS="300")
    status, headers, problem = parsed(health.lambda_handler(http_event("GET", "/health", query={"deep": "true"}), None))
    assert (status, problem["status"]) == (503, 503)
    assert headers["retry-after"] == "1"
    assert "127.0.0.1" not in problem["detail"]


@pytest.mark.parametrize("deep", ["yes", "1", ""])
def test_deep_must_be_true_or_false(deep):
    status, _, problem = parsed(health.lambda_handler(rest_event("GET", "/health", query={"deep": deep}), None))
    assert status == 400 and problem["parameter"] == "deep"


def test_health_module_does_not_import_pymongo():
    code = "import sys, handlers.health; print('pymongo' in sys.modules, 'jwt' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "False"]


def test_handler_modules_do_not_import_jwt_or_boto3():
    modules = [f"handlers.{path.stem}" for path in sorted((ROOT / "handlers").glob("[!_]*.py"))]
    modules.append("tests.fixtures.resources.parcels")  # a database function, whatever the repository declares
    code = f"import sys, {', '.join(modules)}; print('jwt' in sys.modules, 'boto3' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert output.split() == ["False", "False"]
