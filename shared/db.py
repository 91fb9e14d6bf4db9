"""The container's one MongoClient, and driver errors mapped to HTTP problems.

The client is created once and kept for the life of the Lambda container, so
warm requests reuse its connection. It is tuned for Lambda: a small pool (one
request at a time per container) and short timeouts, so a database that is
down or slow gives a fast 503 instead of a hung request. TLS certificates are
always verified: a ``MONGODB_URI`` that turns verification off is refused.

:func:`connect_early` (see :mod:`shared.early_db`) creates the client during
the cold start, so that its monitor connects while the rest of the function
imports; a first request that comes while another thread creates it waits for
that client instead of making one of its own.

Secret rotation: when the database refuses the credentials of a URI fetched
from a secret, the secret is fetched again (at most once per
:data:`RENEW_INTERVAL_SECONDS`) and, if it changed, the client is rebuilt with
it and a connection tried, so the next request uses the new value.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qsl, urlsplit

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError

from shared import early_db, errors, observability, poolmetrics, secrets
from shared.config import ConfigError, settings

TYPE_CHECKING = False  # typing is imported only by the checker
if TYPE_CHECKING:
    from typing import Any

    Document = dict[str, Any]

RETRY_AFTER_SECONDS = "1"
UNAVAILABLE = "the database is unavailable; try again shortly"
AUTHENTICATION_FAILED = 18  # the server's error code for refused credentials
RENEW_INTERVAL_SECONDS = 30.0
# Options that would accept any certificate (or any host name) from the server.
UNVERIFIED_TLS_OPTIONS = ("tlsinsecure", "tlsallowinvalidcertificates", "tlsallowinvalidhostnames")

# The request line's SecretFetches (shared.poolmetrics adds the pool's metrics the same way).
observability.add_metric_source(secrets.FETCH_METRICS, secrets.take_fetch_count)

_client: MongoClient[Document] | None = None
# Made once per container: building a Database and a Collection object costs
# about 20 us, as much as the rest of a warm request's own work.
_collections: dict[str, Collection[Document]] = {}
_lock = threading.Lock()
_connecting: tuple[threading.Thread, threading.Event] | None = None  # connect_early's thread, and its end
_renewed_at = -RENEW_INTERVAL_SECONDS


def check_tls_verification(uri: str) -> None:
    """ConfigError when ``uri`` turns off certificate or host name verification."""
    options = {name.lower(): value.strip().lower() for name, value in parse_qsl(urlsplit(uri).query)}
    for name in UNVERIFIED_TLS_OPTIONS:
        if options.get(name) in ("true", "1", "yes"):
            raise ConfigError(
                f"MONGODB_URI turns off TLS certificate verification ({name}): remove it; "
                f"for a private CA, give its certificate as tlsCAFile"
            )


def _new_client() -> MongoClient[Document]:
    config = settings()
    if not config.mongodb_uri:
        raise ConfigError("MONGODB_URI is not set")
    uri = secrets.resolve(config.mongodb_uri)
    check_tls_verification(uri)
    timeout = config.mongodb_timeout_ms
    return MongoClient(
        uri,
        appname=config.app_name,
        maxPoolSize=config.mongodb_max_pool_size,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        # Per socket read, not timeoutMS: the driver's operation-wide timeout (CSOT)
        # adds about 25 us to every operation (see `make bench`). A stalled read
        # still fails after this long, and is retried at most once.
        socketTimeoutMS=timeout,
        # What the driver picks by itself on Lambda (it detects FaaS), said here so that every run polls: one
        # monitor connection, no streaming hello and no round-trip-time connection, locally and in CI too.
        serverMonitoringMode="poll",
        # A pooled connection idle this long is closed instead of reused: after a long freeze the server or a
        # NAT may have dropped it, and an idle fleet gives its connections back (the monitor's stay).
        maxIdleTimeMS=config.mongodb_max_idle_time_ms,
        event_listeners=[poolmetrics.listener],
        tz_aware=True,
    )


def _wait_for_early_connect() -> None:
    connecting = _connecting
    if connecting is not None and connecting[0] is not threading.current_thread():
        connecting[1].wait()


def client() -> MongoClient[Document]:
    """The container's MongoClient, created on the first call (or waited for, when it is being connected early)."""
    global _client
    _wait_for_early_connect()
    if _client is None:
        with _lock:
            if _client is None:
                _client = _new_client()
    return _client


def connect_early(open_connection: bool = False) -> None:
    """Create the client now, so that its monitor connects in the background; never raises.

    With ``open_connection``, also open and authenticate the pooled connection
    the first request will use (worth its round trip only when the first
    request is not waiting already, as under provisioned concurrency). Does
    nothing when the client exists. A failure is left for the first request to
    meet, as a 503 or a configuration error.
    """
    global _connecting
    with _lock:
        if _client is not None or _connecting is not None:
            return
        _connecting = (threading.current_thread(), threading.Event())
    done = _connecting[1]
    try:
        created = client()
        if open_connection:
            created.admin.command("ping")
    except Exception:
        pass  # the first request meets the same failure, and answers it
    finally:
        _connecting = None
        done.set()


def collection(name: str) -> Collection[Document]:
    """A collection of the configured database."""
    found = _collections.get(name)
    if found is None:
        found = _collections[name] = client()[settings().mongodb_database][name]
    return found


def close() -> None:
    """Close the client; the next :func:`client` call opens a new one."""
    global _client
    _wait_for_early_connect()
    with _lock:
        _collections.clear()
        if _client is not None:
            _client.close()
            _client = None


def renew_credentials() -> bool:
    """After refused credentials: fetch ``MONGODB_URI``'s secret again and, if it changed, rebuild the client.

    At most once per :data:`RENEW_INTERVAL_SECONDS`, and only for a reference.
    Returns whether a new client was built (and its first connection tried).
    """
    global _renewed_at
    reference = settings().mongodb_uri
    now = time.monotonic()
    if not secrets.is_reference(reference) or now - _renewed_at < RENEW_INTERVAL_SECONDS:
        return False
    _renewed_at = now
    in_use = secrets.resolve(reference)
    if secrets.refresh(reference) == in_use:
        return False
    close()
    connect_early(open_connection=True)  # the new credentials, tried once now
    return True


class _MappedErrors:
    """The context manager :func:`mapped_errors` returns (a class, not a generator: every query enters it)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: object) -> None:
        if exc is None:
            return
        if isinstance(exc, DuplicateKeyError):
            raise errors.Conflict("the resource already exists") from None
        if isinstance(exc, OperationFailure):
            if exc.code == AUTHENTICATION_FAILED:
                _refused_credentials()
        elif isinstance(exc, PyMongoError) and (isinstance(exc, ConnectionFailure) or exc.timeout):
            detail = observability.redact(str(exc))[:300]  # redacted first: a cut could split a secret
            observability.log("WARNING", "database unavailable", error=type(exc).__name__, detail=detail)
            raise _unavailable() from None
        elif isinstance(exc, secrets.SecretError):
            observability.log("ERROR", "database secret unavailable", detail=str(exc))
            raise _unavailable() from None


_MAPPED_ERRORS = _MappedErrors()


def mapped_errors() -> _MappedErrors:
    """Turn driver errors raised inside the ``with`` block into HTTP problems.

    Unreachable, restarting or slow database, or credentials it refuses
    -> 503 with ``Retry-After``; duplicate key -> 409. Other driver errors
    propagate (a 500, logged).
    """
    return _MAPPED_ERRORS


def _unavailable() -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable(UNAVAILABLE, headers={"Retry-After": RETRY_AFTER_SECONDS})


def _refused_credentials() -> None:
    try:
        renewed = renew_credentials()
    except secrets.SecretError as exc:
        observability.log("ERROR", "database secret unavailable", detail=str(exc))
        renewed = False
    observability.log("ERROR", "the database refused the credentials", renewed_from_secret=renewed)
    raise _unavailable() from None


# When the function's first lines asked for an early start (shared.early_db), create the client now, in the
# thread importing this module: the first moment pymongo is loaded.
if early_db.requested():
    early_db.connect(connect_early)
