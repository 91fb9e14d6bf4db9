"""make serve's API docs: Swagger UI from a package (no CDN) at /docs, openapi.yaml at /docs/openapi.json."""

import json

import pytest
import yaml

from tools import samtemplate
from tools.gateway import api as api_model
from tools.gateway import apidocs
from tools.gateway.console import Console
from tools.gateway.proxy import HttpRequest
from tools.gateway.server import Gateway


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    """The REST API gateway of template.yaml; no function runs for the docs, so it has no workers."""
    assert apidocs.static_folder() is not None, (
        f"{apidocs.PACKAGE} is not installed: run make setup, which installs requirements-dev.txt"
    )
    lines = []
    return Gateway(api_model.load(samtemplate.load()), {}, Console(lines.append))


def get(gateway: Gateway, path: str):
    return gateway.handle(HttpRequest("GET", path, [("Host", "127.0.0.1:3999")], b"", "127.0.0.1"))


def header(response, name: str) -> str:
    return next(value for key, value in response.headers if key.lower() == name.lower())


def test_docs_is_a_swagger_ui_page_loading_only_local_files(gateway):
    response = get(gateway, "/docs")
    page = response.body.decode()
    assert (response.status, header(response, "content-type")) == (200, "text/html; charset=utf-8")
    assert "SwaggerUIBundle" in page and 'url: "/docs/openapi.json"' in page
    assert "https://" not in page and "//cdn" not in page


def test_swagger_ui_files_come_from_the_installed_package(gateway):
    response = get(gateway, "/docs/swagger-ui-bundle.js")
    assert response.status == 200 and response.body == (apidocs.static_folder() / "swagger-ui-bundle.js").read_bytes()


def test_the_description_is_openapi_yaml_with_this_gateway_as_first_server(gateway):
    response = get(gateway, "/docs/openapi.json")
    served = json.loads(response.body)
    written = yaml.safe_load(apidocs.OPENAPI.read_text())
    assert served["servers"][0]["url"] == "http://127.0.0.1:3999"
    assert {key: value for key, value in served.items() if key != "servers"} == {
        key: value for key, value in written.items() if key != "servers"
    }


@pytest.mark.parametrize("path", ["/docs/../template.yaml", "/docs/%2e%2e/openapi.yaml", "/docs/nothing.js"])
def test_only_the_packages_own_files_are_served(gateway, path):
    assert get(gateway, path).status == 404


def test_paths_outside_docs_still_go_to_the_api(gateway):
    assert get(gateway, "/documents").status == 403  # API Gateway's answer for a path no route has
