"""The database ``make invoke`` and ``make serve`` give the functions, and the line that says which.

In order: ``MONGODB_URI`` when set; else a server already listening on
``DB_PORT`` (27017, such as one started by ``make db``); else a local server
started for the command, with its data in ``.local/db``, so what one command
stores the next one sees. ``DB=fresh`` (``fresh=True``) starts from an empty
database instead: a server the command starts gets a temporary data folder,
deleted at the end; with ``MONGODB_URI`` or a server on ``DB_PORT`` the
functions get a new database name, dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools import localdb, loopback
from tools.cli import CommandError

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".local" / "db"


@dataclass(frozen=True)
class Database:
    uri: str
    name: str  # MONGODB_DATABASE for the functions
    where: str  # what the uri is, for the line that says so
    local: bool = True  # a server on loopback (DB_PORT or started here), not MONGODB_URI

    def describe(self) -> str:
        """``database: mongodb://127.0.0.1:27017/ app (a server already listening on DB_PORT 27017)``."""
        from shared.observability import redact

        return f"database: {redact(self.uri)} {self.name} ({self.where})"

    def environment(self) -> dict[str, str]:
        """What the functions need to use it."""
        return {"MONGODB_URI": self.uri, "MONGODB_DATABASE": self.name}


def db_port(environ=os.environ) -> int:
    raw = environ.get("DB_PORT", "").strip() or "27017"
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise CommandError(f"DB_PORT must be a port number from 1 to 65535, got {raw!r}")
    return int(raw)


def _fresh_name(base: str) -> str:
    return f"{base}_fresh_{uuid.uuid4().hex[:8]}"


def _drop(database: Database) -> None:
    import pymongo  # only for DB=fresh: the command times the functions' own imports before this

    from shared import secrets

    try:
        with pymongo.MongoClient(secrets.resolve(database.uri), serverSelectionTimeoutMS=3000) as client:
            client.drop_database(database.name)
    except Exception as exc:
        print(f"database: could not drop the fresh database {database.name} ({type(exc).__name__})", file=sys.stderr)


@contextmanager
def chosen(fresh: bool = False, environ=os.environ) -> Iterator[Database]:
    """The database to use for the duration of the block; see the module's docstring for which."""
    uri = environ.get("MONGODB_URI", "").strip()
    base = environ.get("MONGODB_DATABASE", "").strip() or "app"
    port = db_port(environ)
    if uri or loopback.listening(port):
        where = "MONGODB_URI" if uri else f"a server already listening on DB_PORT {port}"
        uri = uri or f"mongodb://127.0.0.1:{port}/"
        local = where != "MONGODB_URI"
        if not fresh:
            yield Database(uri, base, where, local)
            return
        database = Database(uri, _fresh_name(base), f"{where}; DB=fresh: a new database, dropped at the end", local)
        try:
            yield database
        finally:
            _drop(database)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="bare-api-db-")) if fresh else DATA_DIR
    shown = "a temporary folder deleted at the end (DB=fresh)" if fresh else ".local/db"
    try:
        process = localdb.start(port, data_dir)
    except localdb.LocalDBError as exc:
        raise CommandError(f"could not start the local database on DB_PORT {port}: {exc}") from None
    try:
        where = f"a local server started on DB_PORT {port}; data in {shown}"
        yield Database(f"mongodb://127.0.0.1:{port}/", base, where)
    finally:
        localdb.stop(process)
        if fresh:
            shutil.rmtree(data_dir, ignore_errors=True)
