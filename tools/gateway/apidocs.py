"""Try-it-out API docs on the local gateway: Swagger UI at ``/docs``, the description at ``/docs/openapi.json``.

Swagger UI's files come from the ``openapi-ui-bundles`` package (requirements-dev.txt: a tool, never in a
function's zip), so the page loads nothing from a CDN. ``/docs/openapi.json`` is openapi.yaml read on each
request (what ``make generate`` last wrote), with the gateway's own address as its first server, so that
"Try it out" calls this gateway. A route the template declares on one of these paths wins over them.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import yaml

from tools.gateway.proxy import HttpRequest, HttpResponse

ROOT = Path(__file__).resolve().parent.parent.parent
OPENAPI = ROOT / "openapi.yaml"
PATH = "/docs"
DESCRIPTION = f"{PATH}/openapi.json"
PACKAGE = "openapi-ui-bundles"
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{title} - API docs</title>
  <link rel="stylesheet" href="{path}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{path}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{path}/swagger-ui-bundle.js"></script>
  <script src="{path}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = () => {{
      window.ui = SwaggerUIBundle({{
        url: "{description}", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout",
      }});
    }};
  </script>
</body>
</html>
"""


def static_folder() -> Path | None:
    """Swagger UI's files, as the installed package holds them; None when it is not installed."""
    try:
        from openapi_ui_bundles import swagger_ui
    except ImportError:
        return None
    return Path(swagger_ui.static_path)


def _answer(status: int, body: bytes, content_type: str) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", content_type), ("Cache-Control", "no-cache")], body)


def description(request: HttpRequest, openapi: Path = OPENAPI) -> dict:
    """openapi.yaml as a dict, with this gateway (the request's ``Host``) as its first server."""
    document = yaml.safe_load(openapi.read_text(encoding="utf-8")) or {}
    host = next((value for name, value in request.headers if name.lower() == "host"), "")
    if host:
        here = {"url": f"http://{host}", "description": "this local gateway"}
        document["servers"] = [here, *[server for server in document.get("servers", []) if server != here]]
    return document


def answer(request: HttpRequest, api, openapi: Path = OPENAPI) -> HttpResponse | None:
    """The docs' answer to a GET of ``/docs``, ``/docs/openapi.json`` or one of Swagger UI's files; else None."""
    path = request.path
    if request.method not in ("GET", "HEAD") or not (path == PATH or path.startswith(f"{PATH}/")):
        return None
    if api.find(request.method, path) is not None:
        return None
    if path == DESCRIPTION:
        return _answer(200, json.dumps(description(request, openapi)).encode(), "application/json")
    folder = static_folder()
    if folder is None:
        text = f"The API docs need the {PACKAGE} package: run make setup (requirements-dev.txt lists it).\n"
        return _answer(501, text.encode(), "text/plain; charset=utf-8")
    if path in (PATH, f"{PATH}/"):
        title = str((description(request, openapi).get("info") or {}).get("title", "API"))
        page = PAGE.format(title=title.replace("<", "&lt;"), path=PATH, description=DESCRIPTION)
        return _answer(200, page.encode(), "text/html; charset=utf-8")
    name = path.removeprefix(f"{PATH}/")
    files = {file.name: file for file in folder.iterdir() if file.is_file()}  # only the package's own files
    if name not in files:
        return _answer(404, b"Not Found\n", "text/plain; charset=utf-8")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return _answer(200, files[name].read_bytes(), content_type)
