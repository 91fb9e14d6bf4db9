"""Keyset pagination over any collection: ``limit``, opaque cursors and the page query (a toolkit module).

    documents, next_cursor = page(db.collection("notes"), {"owner": sub}, [("created_at", -1), ("_id", -1)],
                                  request.query.get("cursor"), parse_limit(request.query.get("limit")))

A cursor is the sort key of the last item of a page, encoded: a JSON array of the key's values
(strings, integers, floats, booleans; ``{"t": ms}`` for a date, ``{"o": hex}`` for an ObjectId) in
URL-safe base64 without padding. It is not signed: it only says where a listing resumes, and the
listing's filter (such as the caller's own items) applies whatever it says. Decoding is strict: the
only accepted text is the exact encoding of a valid key, so padding, other alphabets, junk around a
cursor or a key of the wrong shape is a 400 ``InvalidParameter`` naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

import orjson

from shared import errors

TYPE_CHECKING = False  # typing and pymongo are not imported at run time for these annotations
if TYPE_CHECKING:
    from typing import Any

    from pymongo.collection import Collection

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 400
MAX_KEY_INTEGER = 2**63 - 1  # a BSON int64
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
MAX_MILLISECONDS = 2**47


def now() -> datetime:
    """The current UTC time truncated to milliseconds, as BSON stores dates: a cursor made from it is exact."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def parse_limit(raw: str | None) -> int:
    """``limit`` as an integer from 1 to :data:`MAX_LIMIT` (:data:`DEFAULT_LIMIT` when absent); 400 otherwise."""
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_LIMIT):
        raise errors.InvalidParameter(f"limit must be an integer from 1 to {MAX_LIMIT}", parameter="limit")
    return int(raw)


def _encoded_value(value: object) -> object:
    if isinstance(value, datetime):
        return {"t": (value - EPOCH) // MILLISECOND}
    if isinstance(value, str | bool | int | float):
        return value
    if type(value).__name__ == "ObjectId":
        return {"o": str(value)}
    raise TypeError(f"a cursor cannot hold a {type(value).__name__}: sort on strings, numbers, dates or ObjectIds")


def encode_cursor(*values: object) -> str:
    """The cursor that resumes a listing after the item whose sort key is ``values``."""
    return base64.urlsafe_b64encode(orjson.dumps([_encoded_value(value) for value in values])).decode().rstrip("=")


def _decoded_value(value: object) -> object:
    if type(value) is int:
        if abs(value) > MAX_KEY_INTEGER:
            raise ValueError("integer out of range")
        return value
    if type(value) in (str, bool, float):
        return value
    if isinstance(value, dict) and len(value) == 1:
        if type(value.get("t")) is int and 0 <= value["t"] < MAX_MILLISECONDS:
            return EPOCH + value["t"] * MILLISECOND
        hex_id = value.get("o")
        if isinstance(hex_id, str) and len(hex_id) == 24 and all(char in "0123456789abcdef" for char in hex_id):
            from bson import ObjectId  # only for an ObjectId key: kept off functions that list without one

            return ObjectId(hex_id)
    raise ValueError("not a key value")


def decode_cursor(raw: str | None, size: int = 2) -> tuple[object, ...] | None:
    """The ``size`` sort key values inside a cursor made by :func:`encode_cursor`; None without a cursor.

    400 ``InvalidParameter`` for anything :func:`encode_cursor` would not have written.
    """
    if raw is None:
        return None
    invalid = errors.InvalidParameter("cursor is not one this API issued", parameter="cursor")
    if not raw or len(raw) > MAX_CURSOR_LENGTH or not raw.isascii():
        raise invalid
    try:
        key = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(key, list) or len(key) != size:
            raise invalid
        values = tuple(_decoded_value(value) for value in key)
    except (binascii.Error, ValueError):
        raise invalid from None
    if encode_cursor(*values) != raw:  # junk the decoder skipped, padding, or another alphabet
        raise invalid
    return values


def after_key(sort: list[tuple[str, int]], values: tuple[object, ...]) -> dict[str, Any]:
    """The query for the items that come after the sort key ``values`` in the order ``sort``.

    ``[("created_at", -1), ("_id", -1)]`` after ``(t, id)``: created before ``t``, or at ``t`` with a lower ``_id``.
    """
    branches = []
    for index, (field, direction) in enumerate(sort):
        branch = {name: value for (name, _), value in zip(sort[:index], values, strict=False)}
        branch[field] = {"$lt" if direction < 0 else "$gt": values[index]}
        branches.append(branch)
    return branches[0] if len(branches) == 1 else {"$or": branches}


def page(
    collection: Collection[dict[str, Any]],
    filter: dict[str, Any],
    sort: list[tuple[str, int]],
    cursor: str | None,
    limit: int,
    projection: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the documents that match ``filter``, in the order ``sort``, and the next page's cursor.

    ``sort`` ends with a unique field (such as ``("_id", -1)``) so that every position is exact; every
    document has every sort field (never null), and an index on ``sort`` backs the query. ``cursor`` is
    the client's (None for the first page; 400 when it is not one :func:`encode_cursor` made for a key of
    ``len(sort)`` values). The next cursor is None on the last page: one more document than ``limit``
    is read to know. ``projection`` (fields to include) gets the sort fields added.
    """
    from shared import db  # the database functions import it already; a function that only parses limit does not

    after = decode_cursor(cursor, len(sort))
    query = filter
    if after is not None:
        keyset = after_key(sort, after)
        query = {**filter, **keyset} if not set(keyset) & set(filter) else {"$and": [filter, keyset]}
    if projection is not None:
        projection = {**projection, **{field: 1 for field, _ in sort}}
    with db.mapped_errors():
        documents = list(collection.find(query, projection).sort(sort).limit(limit + 1))
    if len(documents) <= limit:
        return documents, None
    documents = documents[:limit]
    return documents, encode_cursor(*(documents[-1][field] for field, _ in sort))
