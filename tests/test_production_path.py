"""Every function as deployed answers its first request without loading the AWS SDK.

Fresh interpreters, each function configured as the template configures it on
AWS (``STAGE=dev``, secrets as Secrets Manager ARNs served over HTTPS by the
local endpoint, which checks signatures; the database over TLS, verified
against the run's CA): the benchmark's production world, sampled once.
"""

import pytest
from pymongo import MongoClient

from bench import cold, production, replay, run, subjects

EVENTS = (
    "events/me.json",
    "events/user.json",
    "events/health.json",
    "events/authorizer-token.json",
    "events/authorizer-http.json",
)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    with production.world(delay_ms=0) as (world, plain_uri):
        client = MongoClient(plain_uri, tz_aware=True)
        replay.seed(client["production_path"])
        yield world, run.function_environment(plain_uri, "production_path")
        client.close()


@pytest.mark.parametrize("name", EVENTS)
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


def test_the_old_boto3_path_does_load_it(deployed, tmp_path):
    world, env = deployed
    item = replay.load([replay.ROOT / "events/me.json"])[0]
    event_file = tmp_path / "event.json"
    event_file.write_text(item.as_json())
    sample = cold.sample(subjects.boto3_secrets(world.env(env)), event_file, tmp_path)
    assert sample.status == "200" and {"boto3", "botocore"} <= set(sample.aws_sdk)
