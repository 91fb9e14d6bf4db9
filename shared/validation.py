"""Validation of profile updates: only known fields, each typed and bounded.

Nothing from a request body reaches a query without passing through here.
Field names starting with ``$`` or containing ``.`` are refused everywhere,
because MongoDB would read them as operators or paths.
"""

from __future__ import annotations

import os
import re
from functools import cache
from urllib.parse import urlsplit

from shared import errors

LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
PREFERENCE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_PREFERENCES = 20
MAX_PREFERENCE_TEXT = 200
MAX_SAFE_INTEGER = 2**53


class FieldError(ValueError):
    """A field's value breaks its rule; the message says which."""


def text(value, *, min_length: int, max_length: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise FieldError("must be a string")
    if not min_length <= len(value) <= max_length:
        raise FieldError(f"must be {min_length} to {max_length} characters long")
    if CONTROL.search(value) or (not multiline and ("\n" in value or "\t" in value)):
        raise FieldError("must not contain control characters")
    return value


def name(value) -> str:
    stripped = text(value, min_length=1, max_length=100)
    if not stripped.strip():
        raise FieldError("must not be blank")
    return stripped


def bio(value) -> str:
    return text(value, min_length=0, max_length=500, multiline=True)


def locale(value) -> str:
    if not isinstance(value, str) or not LOCALE.match(value):
        raise FieldError("must be a BCP 47 language tag such as en or pt-BR")
    return value


@cache
def iana_time_zones() -> frozenset[str]:
    """Every zone name of the IANA time zone database, as the pinned ``tzdata`` package lists them.

    Read on first use, so only a PATCH that sends a timezone pays for it (well
    under a millisecond). The package, not the system's /usr/share/zoneinfo,
    which Lambda's Amazon Linux 2023 runtimes are not guaranteed to have.
    """
    import tzdata

    with open(os.path.join(os.path.dirname(tzdata.__file__), "zones"), encoding="utf-8") as listing:
        return frozenset(name for name in listing.read().split() if name != "Factory")  # Factory: "no zone set"


def timezone(value) -> str:
    if not isinstance(value, str) or len(value) > 64 or value not in iana_time_zones():
        raise FieldError("must be an IANA time zone such as Europe/Paris or UTC")
    return value


def avatar_url(value) -> str:
    text(value, min_length=1, max_length=2048)
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise FieldError("must be an https:// URL")
    return value


def preference_value(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise FieldError("numbers must be within +/- 2**53")
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return text(value, min_length=0, max_length=MAX_PREFERENCE_TEXT)
    raise FieldError("values must be strings, numbers or booleans")


def preferences(value) -> dict:
    if not isinstance(value, dict):
        raise FieldError("must be an object")
    if len(value) > MAX_PREFERENCES:
        raise FieldError(f"must have at most {MAX_PREFERENCES} keys")
    checked = {}
    for key, item in value.items():
        if not PREFERENCE_KEY.match(key):
            raise FieldError(f"key {key[:50]!r} must be a letter then up to 39 letters, digits, _ or -")
        try:
            checked[key] = preference_value(item)
        except FieldError as exc:
            raise FieldError(f"{key}: {exc}") from None
    return checked


# field -> (validator, may be null to remove it)
PROFILE_FIELDS = {
    "name": (name, False),
    "bio": (bio, True),
    "locale": (locale, True),
    "timezone": (timezone, True),
    "avatar_url": (avatar_url, True),
    "preferences": (preferences, True),
}


def unsafe_key(key: str) -> bool:
    """Whether MongoDB would read ``key`` as an operator or a dotted path."""
    return key.startswith("$") or "." in key


def profile_update(body) -> tuple[dict, list[str]]:
    """Check a PATCH /me body; return the fields to set and the fields to remove.

    Follows JSON Merge Patch (RFC 7396) at the top level: ``null`` removes an
    optional field; ``preferences`` is replaced as a whole. Raises
    :class:`shared.errors.ValidationFailed` listing every bad field.
    """
    if not isinstance(body, dict):
        raise errors.ValidationFailed([{"field": "(body)", "message": "must be a JSON object"}])
    if not body:
        raise errors.ValidationFailed([{"field": "(body)", "message": "must name at least one field"}])
    problems, to_set, to_unset = [], {}, []
    for key, value in body.items():
        if unsafe_key(key):
            problems.append({"field": key[:50], "message": "field names may not start with $ or contain ."})
        elif key not in PROFILE_FIELDS:
            problems.append({"field": key[:50], "message": f"unknown field; allowed: {', '.join(PROFILE_FIELDS)}"})
        elif value is None:
            if PROFILE_FIELDS[key][1]:
                to_unset.append(key)
            else:
                problems.append({"field": key, "message": "may not be removed"})
        else:
            try:
                to_set[key] = PROFILE_FIELDS[key][0](value)
            except FieldError as exc:
                problems.append({"field": key, "message": str(exc)})
    if problems:
        raise errors.ValidationFailed(problems)
    return to_set, to_unset
