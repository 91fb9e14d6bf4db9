"""``make seed``: the documents the event files read, declared beside the code that owns them, stored for local runs.

A handler module whose events name existing documents (``GET /notes/{note_id}`` with the
id of its param Field's example) declares them as a module-level constant::

    SEED = {"notes": [{"_id": ObjectId(NOTE_ID.example()), "owner": "alice", "title": "Groceries", ...}]}

Every module of ``handlers/`` is read, whatever it is called. Three ways store them:

- ``make seed`` stores them in the database ``make invoke`` and ``make serve`` use (see
  :mod:`tools.database`): the documents whose ``_id`` is not there yet. A document already there is kept as
  it is, since a person may have changed it, and the command says which ones it kept; ``make seed
  REPLACE=1`` (``--replace``) puts SEED's version back, and says which ones it replaced.
- ``make invoke`` and ``make serve`` store them before the first request when their database is local (a
  server on ``DB_PORT`` or one they start, not ``MONGODB_URI``) and holds no document (as with ``DB=fresh``,
  the first run on ``.local/db``, or after ``make indexes`` only), and say so; on a database in use, they
  store those of the collections that hold no document (a resource added since), and leave the others
  alone. This runs in a process of its own, so that ``make invoke``'s cold start counts the function's own
  imports only.
- :func:`plant` stores every one, replacing documents of the same ``_id``: the event tests run it before
  each event.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools.cli import CommandError
from tools.database import Database

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ROOT / "handlers"
TIMEOUT_MS = 5000
SUBPROCESS_TIMEOUT_SECONDS = 60


def seeds(folder: Path = HANDLERS) -> dict[str, list[dict]]:
    """``{collection: [document, ...]}`` from the ``SEED`` of every module of ``handlers/``.

    CommandError when a module cannot be imported or a document has no ``_id``.
    """
    found: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("[!_]*.py")):
        name = f"{folder.name}.{path.stem}"
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            raise CommandError(f"cannot import {name} to read its SEED: {type(exc).__name__}: {exc}") from None
        for collection, documents in (getattr(module, "SEED", None) or {}).items():
            if any("_id" not in document for document in documents):
                raise CommandError(
                    f"{name}: every SEED document needs an _id, so that it is stored once; "
                    f"one in {collection!r} has none"
                )
            found.setdefault(collection, []).extend(documents)
    return found


def plant(database, folder: Path = HANDLERS) -> None:
    """Store every seed document in ``database`` (a pymongo Database), replacing one of the same ``_id``."""
    for collection, documents in seeds(folder).items():
        for document in documents:
            database[collection].replace_one({"_id": document["_id"]}, document, upsert=True)


@dataclass
class Outcome:
    """What storing one collection's SEED did, by ``_id``."""

    stored: list = field(default_factory=list)
    kept: list = field(default_factory=list)  # already there, left as they are
    replaced: list = field(default_factory=list)  # already there, replaced by SEED's version


def store(database, found: dict[str, list[dict]], replace: bool = False) -> dict[str, Outcome]:
    """Store ``found`` in ``database``: insert each document whose ``_id`` is not there; the others are kept,
    or replaced when ``replace``."""
    outcomes = {}
    for collection, documents in found.items():
        outcome = outcomes[collection] = Outcome()
        for document in documents:
            if database[collection].find_one({"_id": document["_id"]}, {"_id": 1}) is None:
                database[collection].insert_one(dict(document))
                outcome.stored.append(document["_id"])
            elif replace:
                database[collection].replace_one({"_id": document["_id"]}, document)
                outcome.replaced.append(document["_id"])
            else:
                outcome.kept.append(document["_id"])
    return outcomes


def describe(outcomes: dict[str, Outcome]) -> list[str]:
    """One line per collection: ``seed: notes: stored 2; kept 1 already there as they are (_id 65f1...): ...``."""
    lines = []
    for collection, outcome in outcomes.items():
        parts = [f"stored {len(outcome.stored)}"]
        if outcome.kept:
            parts.append(
                f"kept {len(outcome.kept)} already there as they are ({_ids(outcome.kept)}): "
                f"make seed REPLACE=1 puts SEED's version back"
            )
        if outcome.replaced:
            parts.append(f"replaced {len(outcome.replaced)} by SEED's version ({_ids(outcome.replaced)})")
        lines.append(f"seed: {collection}: {'; '.join(parts)}")
    return lines


def _ids(ids: list) -> str:
    shown = ", ".join(str(value) for value in ids[:5])
    return f"_id {shown}" + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _timeout_ms() -> int:
    """The functions' MONGODB_TIMEOUT_MS when it is a whole number, so that a database that is down fails as fast."""
    raw = os.environ.get("MONGODB_TIMEOUT_MS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else TIMEOUT_MS


def is_empty(database) -> bool:
    """Whether ``database`` holds no document: no collection, or only empty ones (as ``make indexes`` leaves)."""
    return all(is_unused(database, name) for name in database.list_collection_names())


def seed_database(
    uri: str, name: str, replace: bool = False, if_empty: bool = False, folder: Path = HANDLERS
) -> list[str]:
    """Store the SEED documents in database ``name`` on ``uri``; the lines that say what was done.

    ``if_empty``: only into the collections that hold no document (all of them on an empty database; on one
    in use, the collection of a resource added since); nothing is printed when there is none.
    """
    import pymongo

    from shared import secrets

    found = seeds(folder)
    with pymongo.MongoClient(secrets.resolve(uri), serverSelectionTimeoutMS=_timeout_ms()) as client:
        database = client[name]
        if not found:
            return [] if if_empty else ["seed: no module of handlers/ declares SEED; nothing to store"]
        if not if_empty:
            return describe(store(database, found, replace))
        if is_empty(database):
            first = f"seed: {name} is empty: storing the SEED documents of handlers/ first"
            return [first, *describe(store(database, found))]
        unused = {collection: found[collection] for collection in found if is_unused(database, collection)}
        if not unused:
            return []
        first = f"seed: {', '.join(unused)} in {name} hold(s) no document: storing the SEED documents there first"
        return [first, *describe(store(database, unused))]


def is_unused(database, collection: str) -> bool:
    """Whether ``collection`` of ``database`` holds no document."""
    return database[collection].find_one({}, {"_id": 1}) is None


def seed_if_empty(chosen: Database) -> list[str]:
    """Seed the database ``make invoke`` or ``make serve`` chose if it is local and empty; the lines to show.

    Runs in a process of its own: this one imports neither pymongo nor the handlers. A database
    ``MONGODB_URI`` names is never seeded unasked: it may be a deployed one.
    """
    if not chosen.local:
        return []
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tools.seed", "--if-empty"],
            cwd=ROOT,
            env={**os.environ, **chosen.environment()},
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return [f"seed: could not store the SEED documents within {SUBPROCESS_TIMEOUT_SECONDS} s; going on"]
    lines = (result.stdout + result.stderr).splitlines()
    if result.returncode != 0:
        return [f"seed: could not store the SEED documents ({lines[-1] if lines else 'no output'}); going on"]
    return lines


def _parser() -> argparse.ArgumentParser:
    from tools import cli

    parser = cli.Parser(prog="make seed", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--replace", action="store_true", help="put SEED's version back over documents of the same _id (REPLACE=1)"
    )
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help="only when the database holds no document (what make invoke and make serve run)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Store the SEED documents on the database :mod:`tools.database` chooses; a failure is one line, status 1."""
    from pymongo.errors import PyMongoError

    from shared.observability import redact
    from tools import database

    args = _parser().parse_args(argv)
    with database.chosen() as chosen:
        if not args.if_empty and not os.environ.get("MONGODB_URI", "").strip():
            print(chosen.describe(), file=sys.stderr)  # which local database, as make indexes says
        try:
            lines = seed_database(chosen.uri, chosen.name, args.replace, args.if_empty)
        except PyMongoError as exc:
            print(
                f"make seed: cannot store the SEED documents on {redact(chosen.uri)}: "
                f"{redact(str(exc).split(', Timeout:')[0])[:300]}",
                file=sys.stderr,
            )
            return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    from tools import cli

    status = cli.run(main, "make seed")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # not sys.exit: pymongo's threads (the handlers' early connection's too) hold it ~0.5 s
