"""``make indexes``: the indexes the API relies on, collected from the modules that own each collection, created
by a deploy step or a developer; no function imports this module.

A module of the project's code that owns a collection declares, beside its queries:

    INDEXES = {"notes": [IndexModel([("owner", 1), ("created_at", -1), ("_id", 1)], name="notes_by_owner")]}

The modules looked at are those of ``handlers/`` and of every other top-level package of the project
(such as ``shared/``), but not the tools', tests' or benchmarks'. Indexes are created by ``make indexes``,
never at import or on a request: creating one can lock or slow a collection, and Lambda would repeat the
work in every new container. Creating indexes that exist as declared changes nothing, so the command can run
after every deploy.

    python -m tools.indexes         # MONGODB_URI and MONGODB_DATABASE; without MONGODB_URI, the local
                                    # database `make invoke` and `make serve` use (see tools/database.py)
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
from pathlib import Path

from pymongo import IndexModel
from pymongo.database import Database

from shared import db
from shared.config import settings
from tools.cli import CommandError
from tools.database import chosen

ROOT = Path(__file__).resolve().parent.parent
NOT_CODE = frozenset({"tools", "tests", "bench"})  # packages no function is built from
URI_SCHEMES = ("mongodb://", "mongodb+srv://")


def _declares_indexes(path: Path) -> bool:
    """Whether the module's top level assigns ``INDEXES`` (read from source: nothing else is imported)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(target, ast.Name) and target.id == "INDEXES" for target in targets):
            return True
    return False


def code_packages(root: Path = ROOT) -> list[str]:
    """``handlers`` and the project's other top-level packages of function code, such as ``shared``."""
    packages = [path.parent.name for path in sorted(root.glob("*/__init__.py"))]
    return sorted({"handlers", *(name for name in packages if name not in NOT_CODE)})


def index_modules(root: Path = ROOT) -> list[str]:
    """The modules of :func:`code_packages` that declare ``INDEXES``, such as ``handlers.notes``."""
    found = []
    for package in code_packages(root):
        for path in sorted((root / package).glob("[!_]*.py")):
            if _declares_indexes(path):
                found.append(f"{package}.{path.stem}")
    return found


def declared_indexes(modules: list[str] | None = None) -> dict[str, list[IndexModel]]:
    """Every module's ``INDEXES``, merged by collection; ValueError when two declare one name differently."""
    merged: dict[str, dict[str, IndexModel]] = {}
    for name in index_modules() if modules is None else modules:
        for collection, indexes in importlib.import_module(name).INDEXES.items():
            for index in indexes:
                known = merged.setdefault(collection, {}).setdefault(index.document["name"], index)
                if known.document != index.document:
                    raise ValueError(
                        f"{name}: index {index.document['name']!r} on {collection} is declared twice, differently"
                    )
    return {collection: list(indexes.values()) for collection, indexes in merged.items()}


def create_indexes(database: Database, indexes: dict[str, list[IndexModel]] | None = None) -> list[str]:
    """Create ``indexes`` (default: every declared one) on ``database``, idempotently; return their names."""
    names = []
    for collection, models in (declared_indexes() if indexes is None else indexes).items():
        names += database[collection].create_indexes(models)
    return names


def _create_on_configured_database() -> int:
    from pymongo.errors import ConfigurationError, PyMongoError

    from shared import secrets
    from shared.config import ConfigError
    from shared.observability import redact

    try:
        config = settings()
        if not secrets.is_reference(config.mongodb_uri) and not config.mongodb_uri.startswith(URI_SCHEMES):
            raise ConfigError(
                f"MONGODB_URI must start with {' or '.join(URI_SCHEMES)} (or be a secret reference), "
                f"got {redact(config.mongodb_uri)[:80]!r}"
            )
        indexes = declared_indexes()
        database = db.client()[config.mongodb_database]
        names = create_indexes(database, indexes)
    except (ConfigError, secrets.SecretError) as exc:
        print(f"make indexes: {exc}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"make indexes: MONGODB_URI is not a usable connection string: {redact(str(exc))}", file=sys.stderr)
        return 2
    except PyMongoError as exc:
        where = redact(config.mongodb_uri)
        if exc.timeout:
            reason = f"no answer within MONGODB_TIMEOUT_MS={config.mongodb_timeout_ms} ms"
        else:
            reason = redact(str(exc).split(", Timeout:")[0])[:300]
        print(f"make indexes: cannot create the indexes on {where}: {reason}", file=sys.stderr)
        return 1
    finally:
        db.close()
    for name in names:
        print(f"index ready: {database.name}.{name}")
    return 0


def main() -> int:
    """Create the indexes; any failure is one line on stderr and exit status 1 or 2.

    On ``MONGODB_URI`` when set; else on the local database, chosen as ``make invoke`` and ``make serve``
    choose it (a server on ``DB_PORT``, else one started for the command). Bounded in time: an
    unreachable server fails after ``MONGODB_TIMEOUT_MS`` (server selection).
    """
    if os.environ.get("MONGODB_URI", "").strip():
        return _create_on_configured_database()
    try:
        with chosen() as local:
            print(local.describe(), file=sys.stderr)
            os.environ.update(local.environment())
            settings.cache_clear()
            return _create_on_configured_database()
    except CommandError as exc:
        print(f"make indexes: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
