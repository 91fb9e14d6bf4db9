"""The events the benchmark replays, the function each one reaches, and the data they expect.

Events come from ``events/`` (top level, ``v2/`` and ``principals/``), or the
ones named in ``EVENTS``. Every event acts as ``alice``, so the database is
seeded with her profile and a page of other users before a run. Writes are
made repeatable: PATCH /me sets the same fields each time, and before every
DELETE /me her profile is put back, so each DELETE really deletes one
document (the restore is not timed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from tools import invoke, samtemplate

ROOT = Path(__file__).resolve().parent.parent
EVENT_FOLDERS = ("events", "events/v2", "events/principals")
SUBJECT = "alice"
OTHER_USERS = 30
PROFILES = "profiles"


@dataclass(frozen=True)
class ReplayEvent:
    """One event file, ready to replay: its JSON (token filled in) and the function that answers it."""

    name: str
    event: dict
    function: str
    handler: str
    method: str
    path: str

    @property
    def is_authorizer(self) -> bool:
        return invoke.is_authorizer_event(self.event)

    @property
    def restores_profile(self) -> bool:
        """Whether the profile must be put back before each replay (DELETE removes it)."""
        return self.method == "DELETE"

    @property
    def route(self) -> str:
        """``authorizer``, or the method, path and query string, such as ``GET /users?limit=10``."""
        if self.is_authorizer:
            return "authorizer"
        query = self.event.get("rawQueryString") or urlencode(self.event.get("queryStringParameters") or {})
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")

    def as_json(self) -> str:
        return json.dumps(self.event)


def discover(root: Path = ROOT) -> list[Path]:
    """Every event file, in a stable order: ``events/``, then ``v2/``, then ``principals/``."""
    return [path for folder in EVENT_FOLDERS for path in sorted((root / folder).glob("*.json"))]


def select(spec: str | None, root: Path = ROOT) -> list[Path]:
    """The event files named by ``spec`` (paths or globs relative to ``root``, space or comma separated).

    No ``spec`` means every event. A name that matches no file raises ValueError.
    """
    if not spec or not spec.strip():
        return discover(root)
    chosen: list[Path] = []
    for pattern in spec.replace(",", " ").split():
        matches = sorted(root.glob(pattern)) if any(c in pattern for c in "*?[") else [root / pattern]
        matches = [path for path in matches if path.is_file()]
        if not matches:
            raise ValueError(f"no event file matches {pattern!r}")
        chosen += [path for path in matches if path not in chosen]
    return chosen


def load(paths: list[Path], template: dict | None = None, root: Path = ROOT) -> list[ReplayEvent]:
    """The events in ``paths``, with ``{{LOCAL_TOKEN}}`` replaced and their function found in the template."""
    template = template if template is not None else samtemplate.load()
    loaded = []
    for path in paths:
        event = invoke.load_event(path)
        function, handler = invoke.function_for(event, template)
        method, route_path = ("", "") if invoke.is_authorizer_event(event) else invoke.event_route(event)
        name = str(path.resolve().relative_to(root)) if path.resolve().is_relative_to(root) else str(path)
        loaded.append(ReplayEvent(name, event, function, handler, method, route_path))
    return loaded


def cold_event(events: list[ReplayEvent]) -> ReplayEvent:
    """The event a function's cold starts replay: its plainest read (a GET, shortest file name)."""
    return min(events, key=lambda item: (item.method not in ("GET", ""), len(Path(item.name).name), item.name))


def by_function(events: list[ReplayEvent]) -> dict[str, list[ReplayEvent]]:
    """The events grouped by the function that answers them, in first-seen order."""
    groups: dict[str, list[ReplayEvent]] = {}
    for item in events:
        groups.setdefault(item.function, []).append(item)
    return groups


def subject_profile(now: datetime | None = None) -> dict:
    """Alice's profile as the API stores it (``_id`` is the token's ``sub``)."""
    now = now or datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "_id": SUBJECT,
        "email": "alice@example.com",
        "name": "Alice Liddell",
        "created_at": now,
        "updated_at": now,
        "revision": "0a1b2c3d4e5f",
    }


def other_profiles(count: int = OTHER_USERS) -> list[dict]:
    """``count`` other public profiles, one minute apart, so GET /users returns full pages."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        {
            "_id": f"user-{index:03d}",
            "email": f"user{index}@example.com",
            "name": f"User {index}",
            "bio": "Here for the benchmark.",
            "created_at": start + timedelta(minutes=index),
            "updated_at": start + timedelta(minutes=index),
            "revision": f"{index:012x}",
        }
        for index in range(count)
    ]


def seed(database) -> None:
    """Empty ``database`` and fill it with alice, the other users and the API's indexes."""
    from tools.indexes import create_indexes

    database[PROFILES].drop()
    database[PROFILES].insert_many([subject_profile(), *other_profiles()])
    create_indexes(database)


def restore_profile(database) -> None:
    """Put alice's seeded profile back (after a DELETE /me, or a PATCH)."""
    database[PROFILES].replace_one({"_id": SUBJECT}, subject_profile(), upsert=True)
