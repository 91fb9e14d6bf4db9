"""The API Gateway event files of ``events/``: which there are, and the route each one is for.

Read by ``make generate`` (which writes the events a route lacks), the checks and the local runs alike.
"""

from __future__ import annotations

import json
from pathlib import Path

EVENTS = Path(__file__).resolve().parent.parent / "events"


def event_files(folder: Path = EVENTS) -> dict[str, dict]:
    """``{"events/...json": event}`` for every API Gateway proxy event file (authorizer events left out)."""
    found = {}
    for path in sorted(folder.rglob("*.json")):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            event = None  # make invoke names what is wrong with it
        if isinstance(event, dict) and event.get("type") not in ("TOKEN", "REQUEST") and "routeArn" not in event:
            found[str(path.relative_to(folder.parent))] = event
    return found


def event_route(event: dict) -> tuple[str, str, str]:
    """``(method, route path, request path)`` of a REST API (1.0) or HTTP API (2.0) proxy event."""
    if event.get("version") == "2.0":
        method, _, path = str(event.get("routeKey", "")).partition(" ")
        return method, path, str(event.get("rawPath", ""))
    return str(event.get("httpMethod", "")), str(event.get("resource", "")), str(event.get("path", ""))
