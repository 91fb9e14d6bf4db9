"""The documents the event files read, declared beside the code that owns them.

A handler module whose events name existing documents (``GET /notes/{note_id}`` with the
id of its param Field's example) declares them as a module-level constant::

    SEED = {"notes": [{"_id": ObjectId(NOTE_ID.example()), "owner": "alice", "title": "Groceries", ...}]}

:func:`plant` stores every module's seed in a database (replacing documents of the same
``_id``), so each event file finds what it reads: the event tests do this before each event.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from tools.checks.declarations import HANDLERS


def seeds(folder: Path = HANDLERS) -> dict[str, list[dict]]:
    """``{collection: [document, ...]}`` from the ``SEED`` of every module of ``handlers/``."""
    found: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("[!_]*.py")):
        module = importlib.import_module(f"handlers.{path.stem}")
        for collection, documents in (getattr(module, "SEED", None) or {}).items():
            found.setdefault(collection, []).extend(documents)
    return found


def plant(database, folder: Path = HANDLERS) -> None:
    """Store every seed document in ``database`` (a pymongo Database), replacing one of the same ``_id``."""
    for collection, documents in seeds(folder).items():
        for document in documents:
            database[collection].replace_one({"_id": document["_id"]}, document, upsert=True)
