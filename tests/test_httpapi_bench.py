"""The first-request benchmark rows and the cost model per API flavour."""

from __future__ import annotations

import pytest

from bench import first_request
from tests.fixtures.gateway_server import write_resource_template


def test_the_first_request_cold_starts_the_authorizer_too_on_rest_but_only_the_function_with_jwt(mongo_uri, tmp_path):
    """Measured on the fixture resource's ``GET /parcels``, served beside template.yaml's own routes."""
    template = write_resource_template(tmp_path / "template.yaml")
    environment = {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": "bench_first", "STAGE": "local"}
    rows = {
        row["flavour"]: row
        for row in first_request.measure(1, 3, environment, path="/parcels", gateway=("--template", str(template)))
    }
    assert rows["REST API + Lambda authorizer"]["cold_starts"] == 2
    assert rows["HTTP API + Lambda authorizer"]["cold_starts"] == 2
    assert rows["HTTP API + JWT authorizer"]["cold_starts"] == 1
    assert all(row["warm_ms"]["n"] == 3 for row in rows.values())


def test_the_cost_model_adds_api_gateway_the_function_and_the_authorizer_misses():
    rows = {row["flavour"]: row for row in first_request.cost_model(function_ms=10.2, authorizer_ms=3.0, hit_rate=0.75)}
    gb_second = first_request.PRICES["lambda_gb_second_arm"][0]
    function = 0.20 + 1e6 * 0.011 * 1.0 * gb_second  # 11 billed ms at 1 GB
    authorizer = 0.25 * (0.20 + 1e6 * 0.003 * 0.5 * gb_second)  # a quarter of requests, 3 ms at 0.5 GB
    assert rows["REST API + Lambda authorizer"]["total"] == pytest.approx(3.50 + function + authorizer)
    assert rows["HTTP API + JWT authorizer"]["total"] == pytest.approx(1.00 + function)
    assert rows["HTTP API + Lambda authorizer"]["authorizer"] == pytest.approx(authorizer)


def test_every_price_names_its_source_and_date():
    for value, what, page, checked in first_request.PRICES.values():
        assert value > 0 and what and page.startswith("https://aws.amazon.com/") and checked.startswith("20")
