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
    if not settings().mongodb_uri:
        print("set MONGODB_URI (for the local server started by `make db`: mongodb://127.0.0.1:27017/)",
              file=sys.stderr)
        return 2
    database = db.client()[settings().mongodb_database]
    for name in create_indexes(database):
        print(f"index ready: {database.name}.{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
