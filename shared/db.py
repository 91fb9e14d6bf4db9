"""The container's one MongoClient, and driver errors mapped to HTTP problems.

The client is created on first use and kept for the life of the Lambda
container, so warm requests reuse its connection. It is tuned for Lambda: a
small pool (one request at a time per container) and short timeouts, so a
database that is down or slow gives a fast 503 instead of a hung request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from shared import errors, observability, secrets
from shared.config import ConfigError, settings

RETRY_AFTER_SECONDS = "1"
UNAVAILABLE = "the database is unavailable; try again shortly"

_client: MongoClient | None = None
# Made once per container: building a Database and a Collection object costs
# about 20 us, as much as the rest of a warm request's own work.
_collections: dict[str, Collection] = {}


def client() -> MongoClient:
    """The container's MongoClient, created on the first call."""
    global _client
    if _client is None:
        config = settings()
        if not config.mongodb_uri:
            raise ConfigError("MONGODB_URI is not set")
        timeout = config.mongodb_timeout_ms
        _client = MongoClient(
            secrets.resolve(config.mongodb_uri),
            appname=config.app_name,
            maxPoolSize=config.mongodb_max_pool_size,
            serverSelectionTimeoutMS=timeout,
            connectTimeoutMS=timeout,
            # Per socket read, not timeoutMS: the driver's operation-wide timeout (CSOT)
            # adds about 25 us to every operation (see `make bench`). A stalled read
            # still fails after this long, and is retried at most once.
            socketTimeoutMS=timeout,
            tz_aware=True,
        )
    return _client


def collection(name: str) -> Collection:
    """A collection of the configured database."""
    found = _collections.get(name)
    if found is None:
        found = _collections[name] = client()[settings().mongodb_database][name]
    return found


def close() -> None:
    """Close the client; the next :func:`client` call opens a new one."""
    global _client
    _collections.clear()
    if _client is not None:
        _client.close()
        _client = None


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Turn driver errors raised inside the block into HTTP problems.

    Unreachable, restarting or slow database -> 503 with ``Retry-After``;
    duplicate key -> 409. Other driver errors propagate (a 500, logged).
    """
    try:
        yield
    except DuplicateKeyError:
        raise errors.Conflict("the resource already exists") from None
    except PyMongoError as exc:
        if not isinstance(exc, ConnectionFailure) and not exc.timeout:
            raise
        detail = observability.redact(str(exc)[:300])
        observability.log("WARNING", "database unavailable", error=type(exc).__name__, detail=detail)
        raise errors.ServiceUnavailable(UNAVAILABLE, headers={"Retry-After": RETRY_AFTER_SECONDS}) from None
    except secrets.SecretError as exc:
        observability.log("ERROR", "database secret unavailable", detail=str(exc))
        raise errors.ServiceUnavailable(UNAVAILABLE, headers={"Retry-After": RETRY_AFTER_SECONDS}) from None
