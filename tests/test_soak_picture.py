"""The soak's picture: the dashboard's panels computed from a run's own lines, drawn as a PNG."""

import io
import math

import pytest

from tests.apigw import rest_authorizer, rest_event
from tests.fixtures.resources import parcels
from tests.test_dashboard import with_dashboard
from tests.test_seed import repository_with_parcels
from tools import samtemplate
from tools.gateway.console import JSON, Console, Log
from tools.gateway.workers import Invocation
from tools.soak import picture


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The template of the repository with the fixture resource added, and its dashboard."""
    project = repository_with_parcels(tmp_path_factory.mktemp("project"))
    return with_dashboard(samtemplate.load(project / "template.yaml"))


def widget(template: dict, title: str) -> dict:
    return next(each for each in picture.panels(template) if each["properties"]["title"] == title)


@pytest.fixture
def run(database, capsys):
    """A gateway log as the local gateway writes it with --logs json: three GET /parcels, the first one authorized."""
    stream = io.StringIO()
    console = Console(Log(stream), JSON)
    for index in range(3):
        parcels.lambda_handler(rest_event("GET", "/parcels", authorizer=rest_authorizer()), None)
        logs = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
        cache = "miss" if index == 0 else "hit"
        invocations = [("ParcelsFunction", Invocation(logs=logs))]
        console.request(f"GET /parcels 200 4.2 ms authorizer={cache} -> ParcelsFunction", invocations)
    return picture.read_gateway_log(stream.getvalue())


def test_the_gateway_log_gives_each_function_line_and_each_request(run):
    assert len(run.records) == 3 and len(run.requests) == 3
    assert all(record["function"] == "parcels" for _, record in run.records)


def test_api_requests_are_counted_from_the_gateway_lines(run, template):
    [(label, series)] = picture.panel_series(run, template, widget(template, "API requests"))[0]
    assert label == "requests" and sum(series) == 3


def test_the_authorizer_cache_hit_rate_is_the_dashboards_metric_math_on_local_lines(run, template):
    [(_, series)], _ = picture.panel_series(run, template, widget(template, "Authorizer cache hit rate (%)"))
    assert math.isclose(series[0], 100 * (1 - 1 / 3))


def test_the_pool_panel_counts_the_connection_the_first_request_opened(run, template):
    drawn, _ = picture.panel_series(run, template, widget(template, "Pool connections created and clears"))
    assert dict(drawn)["parcels"][0] == 1 and dict(drawn)["parcels cleared"][0] == 0


def test_a_metric_only_aws_measures_is_named_on_its_panel(run, template):
    drawn, missing = picture.panel_series(run, template, widget(template, "Function throttles"))
    assert drawn == [] and "ParcelsFunction" in missing


def test_the_picture_is_a_png(run, template, tmp_path):
    path = picture.draw(run, template, tmp_path / "panels.png", "test run")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_statistics_are_cloudwatchs():
    values = [float(value) for value in range(1, 101)]
    assert [picture.statistic(values, stat) for stat in ("Sum", "Average", "Maximum", "p50", "p99")] == [
        5050.0,
        50.5,
        100.0,
        50.0,
        99.0,
    ]


def test_concurrency_is_the_number_of_requests_in_flight_at_each_end():
    assert [count for _, count in picture._in_flight([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)])] == [2.0, 1.0, 1.0]


def test_a_request_that_starts_within_a_millisecond_of_the_last_ones_end_follows_it():
    assert [count for _, count in picture._in_flight([(0.0, 1.0), (0.9995, 2.0)])] == [1.0, 1.0]
