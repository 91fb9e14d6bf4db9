"""Every function as deployed answers its first request without loading the AWS SDK.

Fresh interpreters, each function configured as the template configures it on
AWS (``STAGE=dev``, secrets as Secrets Manager ARNs served over HTTPS by the
local endpoint, which checks signatures; the database over TLS, verified
against the run's CA): the benchmark's production world, sampled once.
"""

import pytest
from pymongo import MongoClient

from bench import cold, production, replay, run, subjects
from tools import seed
from tools.checks.declarations import declared_routes


def first_requests() -> list[str]:
    """Whatever the repository declares: each function's plainest event (the one its cold starts replay), and
    every authorizer event (one per way a token comes)."""
    events = replay.load(replay.discover())
    plainest = [replay.cold_event(group).name for group in replay.by_function(events).values()]
    return sorted({*plainest, *(item.name for item in events if item.is_authorizer)})


def declares(method: str, path: str) -> bool:
    return any((route.method, route.path) == (method, path) for route in declared_routes())


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    with production.world(delay_ms=0) as (world, plain_uri):
        client = MongoClient(plain_uri, tz_aware=True)
        replay.seed(client["production_path"])
        seed.plant(client["production_path"])  # the handler modules' SEED: what their events read
        yield world, run.function_environment(plain_uri, "production_path")
        client.close()


@pytest.mark.parametrize("name", first_requests())
def test_the_first_request_as_deployed_loads_no_aws_sdk(deployed, name, tmp_path):
    world, env = deployed
    item = run.production_event(replay.load([replay.ROOT / name])[0])
    event_file = tmp_path / "event.json"
    event_file.write_text(item.as_json())
    subject = subjects.production_function(item.function, item.handler, world.env(env), "Secrets Manager")
    sample = cold.sample(subject, event_file, tmp_path)
    assert sample.status in ("200", "Allow")
    assert sample.aws_sdk == ()
    if item.function in ("AuthorizerFunction", "HealthFunction"):
        assert "pymongo" not in sample.drivers


@pytest.mark.skipif(
    not declares("GET", "/me"), reason="the boto3 baseline (bench/baselines) answers GET /me, which is not declared"
)
def test_the_old_boto3_path_does_load_it(deployed, tmp_path):
    world, env = deployed
    item = replay.load([replay.ROOT / "events/me.json"])[0]
    event_file = tmp_path / "event.json"
    event_file.write_text(item.as_json())
    sample = cold.sample(subjects.boto3_secrets(world.env(env)), event_file, tmp_path)
    assert sample.status == "200" and {"boto3", "botocore"} <= set(sample.aws_sdk)
