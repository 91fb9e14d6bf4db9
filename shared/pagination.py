"""Opaque page cursors and the ``limit`` parameter of list routes."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

import orjson

from shared import errors

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def parse_limit(raw: str | None) -> int:
    """``limit`` as an integer from 1 to :data:`MAX_LIMIT`; 400 otherwise."""
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise errors.InvalidParameter(f"limit must be an integer from 1 to {MAX_LIMIT}", parameter="limit")
    return int(raw)


def encode_cursor(created_at: datetime, item_id: str) -> str:
    """The cursor that continues a listing after the item with this sort key."""
    key = [(created_at - EPOCH) // MILLISECOND, item_id]
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(raw: str | None) -> tuple[datetime, str] | None:
    """The sort key inside a cursor made by :func:`encode_cursor`; 400 for anything else."""
    if raw is None:
        return None
    invalid = errors.InvalidParameter("cursor is not one this API issued", parameter="cursor")
    if not raw or len(raw) > MAX_CURSOR_LENGTH or not raw.isascii():
        raise invalid
    try:
        key = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not (
        isinstance(key, list) and len(key) == 2
        and type(key[0]) is int and 0 <= key[0] < 2**47
        and isinstance(key[1], str) and key[1]
    ):
        raise invalid
    return EPOCH + key[0] * MILLISECOND, key[1]
