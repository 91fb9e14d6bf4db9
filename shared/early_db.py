"""The database functions' early start: ``MONGODB_URI``'s secret, then the MongoClient, from the first import.

:func:`start`, called by the first lines of ``handlers/me.py`` and
``handlers/users.py``, starts the secret's fetch in a background thread before
pymongo is imported, and asks :mod:`shared.db` to create the MongoClient the
moment it is imported (its last lines), in the importing thread: the monitor
then connects while the rest of the function imports. (A background thread
for that would only wait for the import and then fight the importing thread
for the GIL.) When the database module is loaded already (a second handler in
the process, a SnapStart restore), a background thread creates the client.
Under provisioned concurrency the pooled connection the first request will use
is opened too: nothing is waiting for that request yet. Under SnapStart all of
it waits for the restore (see :mod:`shared.early`).
"""

from __future__ import annotations

import os
import sys
import threading

from shared import early, secrets

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable

_requested = False


def start() -> None:
    """Start fetching ``MONGODB_URI``'s secret and connecting, now or after a SnapStart restore."""
    early.now_or_after_restore(_start, _before_snapshot)


def requested() -> bool:
    """Whether :mod:`shared.db` should create the client as soon as it is imported."""
    return _requested


def connect(connect_early: Callable[..., object]) -> None:
    """Call ``shared.db.connect_early`` once the secret is there; a failed fetch is left for the first request."""
    uri = os.environ.get("MONGODB_URI", "").strip()
    if secrets.is_reference(uri) and not secrets.wait(uri):
        return
    connect_early(open_connection=early.initialization_type() == early.PROVISIONED)


def _start() -> None:
    global _requested
    uri = os.environ.get("MONGODB_URI", "").strip()
    if not uri:
        return
    secrets.prefetch(uri)
    if "shared.db" in sys.modules:
        threading.Thread(target=_connect_in_background, name="db-connect", daemon=True).start()
    else:
        _requested = True


def _connect_in_background() -> None:
    from shared import db

    connect(db.connect_early)


def _before_snapshot() -> None:
    from shared import db

    db.close()
    secrets.forget()
