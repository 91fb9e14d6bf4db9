"""Start a cold start's network waits first, so that they overlap the imports that follow.

A function whose first request needs a secret (one HTTPS call) or a database
connection (TCP, TLS, the handshake) would otherwise wait on the network after
its CPU-bound imports. Its first lines start that work in background threads
instead: the authorizer calls :func:`secret` for ``JWT_SECRET``, the database
functions :func:`shared.early_db.start`. The first request waits for whatever
is still running and meets a failure as it would have without the early start
(a 503, or the authorizer's 500); the next request tries again.

Never before a SnapStart snapshot (``AWS_LAMBDA_INITIALIZATION_TYPE`` is
``snap-start``): every environment restored from it would share the snapshot's
connection and secret values, and both may be stale by then. There the same
start is registered as an after-restore hook with the runtime's
``snapshot_restore_py`` (imported only then), with a before-snapshot hook that
makes sure no secret value (and no client) exists.
"""

from __future__ import annotations

import os

from shared import secrets

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable

SNAP_START = "snap-start"
PROVISIONED = "provisioned-concurrency"  # initialized ahead of requests: nothing is waiting yet


def initialization_type() -> str:
    """How Lambda initializes this environment: ``on-demand``, ``provisioned-concurrency`` or ``snap-start``."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "")


def now_or_after_restore(start: Callable[[], object], before_snapshot: Callable[[], object]) -> None:
    """Run ``start()`` now, or under SnapStart register it to run after the restore (and ``before_snapshot``)."""
    if initialization_type() != SNAP_START:
        start()
        return
    try:
        import snapshot_restore_py
    except ImportError:  # not a Lambda runtime after all: the first request does everything
        return
    snapshot_restore_py.register_before_snapshot(before_snapshot)
    snapshot_restore_py.register_after_restore(start)


def secret(name: str) -> None:
    """Start fetching the secret the setting ``name`` refers to (if it is a reference), now or after a restore."""
    now_or_after_restore(lambda: secrets.prefetch(os.environ.get(name, "").strip()), secrets.forget)
