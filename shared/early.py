"""Start a cold start's network waits first, so that they overlap the imports that follow.

A database function's first request needs ``MONGODB_URI``'s secret (one HTTPS
call) and a database connection (TCP, TLS, the handshake): waits on the
network that would otherwise come after the CPU-bound imports. The first lines
of ``handlers/me.py`` and ``handlers/users.py`` call :func:`database`, which
starts the secret's fetch in a background thread before pymongo is imported;
once the value is there, a second thread creates the MongoClient, whose
monitor connects in the background (:func:`shared.db.connect_early`; under
provisioned concurrency it also opens the first pooled connection). The authorizer calls
:func:`jwt_secret` the same way. The first request waits for whatever is still
running and meets a failure as it would have without the early start (a 503,
or the authorizer's 500); the next request tries again.

Never before a SnapStart snapshot (``AWS_LAMBDA_INITIALIZATION_TYPE`` is
``snap-start``): every environment restored from it would share the snapshot's
connection and secret value, and both may be stale by then. There the same
start is registered as an after-restore hook with the runtime's
``snapshot_restore_py`` (imported only then), and a before-snapshot hook makes
sure that no client and no secret value exist.
"""

from __future__ import annotations

import os
import threading

from shared import secrets

SNAP_START = "snap-start"
PROVISIONED = "provisioned-concurrency"  # initialized ahead of requests: nothing waits for its connection


def is_snap_start(environ=os.environ) -> bool:
    """Whether this is the initialization before a SnapStart snapshot (or an environment restored from one)."""
    return environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "") == SNAP_START


def database() -> None:
    """Start fetching ``MONGODB_URI``'s secret and connecting now, or after a SnapStart restore."""
    _now_or_after_restore(_start_database, _before_snapshot_database)


def jwt_secret() -> None:
    """Start fetching ``JWT_SECRET``'s secret now, or after a SnapStart restore."""
    _now_or_after_restore(_start_jwt_secret, secrets.forget)


def _now_or_after_restore(start, before_snapshot) -> None:
    if not is_snap_start():
        start()
        return
    try:
        import snapshot_restore_py
    except ImportError:  # not a Lambda runtime after all: the first request does everything
        return
    snapshot_restore_py.register_before_snapshot(before_snapshot)
    snapshot_restore_py.register_after_restore(start)


def _start_database() -> None:
    uri = os.environ.get("MONGODB_URI", "").strip()
    if uri:
        secrets.prefetch(uri)
        threading.Thread(target=_connect_database, args=(uri,), name="db-connect", daemon=True).start()


def _connect_database(uri: str) -> None:
    if secrets.is_reference(uri) and not secrets.wait(uri):
        return  # the fetch failed: its error is left for the first request to meet
    try:
        from shared import db  # the main thread may be importing pymongo: this waits for it
    except Exception:
        return
    db.connect_early(open_connection=os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == PROVISIONED)


def _before_snapshot_database() -> None:
    from shared import db

    db.close()
    secrets.forget()


def _start_jwt_secret() -> None:
    secrets.prefetch(os.environ.get("JWT_SECRET", "").strip())
