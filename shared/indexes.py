"""Every index the API relies on, in one place, and the command that creates them.

Indexes are created by a deploy step (``make indexes``), never at import or on
a request: creating one can lock or slow a collection, and Lambda would repeat
the work in every new container.

    python -m shared.indexes        # uses MONGODB_URI and MONGODB_DATABASE
"""

from __future__ import annotations

import sys

from pymongo import IndexModel
from pymongo.database import Database

from shared import db, profiles
from shared.config import settings

URI_SCHEMES = ("mongodb://", "mongodb+srv://")
INDEXES: dict[str, list[IndexModel]] = {
    profiles.COLLECTION: [
        IndexModel(profiles.LIST_ORDER, name="profiles_newest_first"),
    ],
}


def create_indexes(database: Database) -> list[str]:
    """Create every index in :data:`INDEXES` (idempotent); return their names."""
    names = []
    for collection, indexes in INDEXES.items():
        names += database[collection].create_indexes(indexes)
    return names


def main() -> int:
    """Create the indexes on ``MONGODB_URI``; any failure is one line on stderr and exit status 1 or 2.

    Bounded in time: an unreachable server fails after ``MONGODB_TIMEOUT_MS`` (server selection).
    """
    from pymongo.errors import ConfigurationError, PyMongoError

    from shared import secrets
    from shared.config import ConfigError
    from shared.observability import redact

    try:
        config = settings()
        if not config.mongodb_uri:
            raise ConfigError("set MONGODB_URI (for the local server started by `make db`: mongodb://127.0.0.1:27017/)")
        if not secrets.is_reference(config.mongodb_uri) and not config.mongodb_uri.startswith(URI_SCHEMES):
            raise ConfigError(f"MONGODB_URI must start with {' or '.join(URI_SCHEMES)} (or be a secret reference), "
                              f"got {redact(config.mongodb_uri)[:80]!r}")
        database = db.client()[config.mongodb_database]
        names = create_indexes(database)
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


if __name__ == "__main__":
    sys.exit(main())
