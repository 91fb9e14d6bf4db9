"""The database functions' early start: ``MONGODB_URI``'s secret, then the MongoClient, from the first import.

:func:`start`, called by the first lines of ``handlers/me.py`` and
``handlers/users.py``, starts the secret's fetch in a background thread before
pymongo is imported; once the value is there, a second thread creates the
MongoClient (:func:`shared.db.connect_early`), whose monitor connects while the
rest imports. Under provisioned concurrency it also opens the pooled
connection the first request will use: nothing is waiting for that request yet.
Under SnapStart all of it waits for the restore (see :mod:`shared.early`).
"""

from __future__ import annotations

import os
import threading

from shared import early, secrets


def start() -> None:
    """Start fetching ``MONGODB_URI``'s secret and connecting, now or after a SnapStart restore."""
    early.now_or_after_restore(_start, _before_snapshot)


def _start() -> None:
    uri = os.environ.get("MONGODB_URI", "").strip()
    if uri:
        secrets.prefetch(uri)
        threading.Thread(target=_connect, args=(uri,), name="db-connect", daemon=True).start()


def _connect(uri: str) -> None:
    if secrets.is_reference(uri) and not secrets.wait(uri):
        return  # the fetch failed: its error is left for the first request to meet
    try:
        from shared import db  # the main thread may be importing pymongo: this waits for it
    except Exception:
        return
    db.connect_early(open_connection=early.initialization_type() == early.PROVISIONED)


def _before_snapshot() -> None:
    from shared import db

    db.close()
    secrets.forget()
