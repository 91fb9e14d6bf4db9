"""The fields of a profile, declared on :mod:`shared.schema`.

Only the function that writes profiles (``handlers/me.py``)
imports it, so only its zip holds ``tzdata`` (for :class:`TimeZone`). ``PATCH /me`` takes
``PROFILE.patch()``.
"""

from __future__ import annotations

import os
from functools import cache

from profiles.store import NAME_RULE
from shared.schema import AnyOf, Boolean, Field, FieldError, Map, Number, Schema, String, Url

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from shared.schema import JSONSchema

LOCALE = "[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}"
PREFERENCE_KEY = "[A-Za-z][A-Za-z0-9_-]{0,39}"
MAX_PREFERENCES = 20
MAX_PREFERENCE_TEXT = 200


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


class TimeZone(Field):
    """A zone name of the IANA time zone database (case-sensitive), such as ``Europe/Paris`` or ``UTC``."""

    default_example = "Europe/Paris"
    python_types = (str,)

    def _check(self, value: object) -> str:
        if not isinstance(value, str) or len(value) > 64 or value not in iana_time_zones():
            raise FieldError("must be an IANA time zone such as Europe/Paris or UTC")
        return value

    def _schema(self) -> JSONSchema:
        return {"type": "string", "maxLength": 64, "pattern": "^[A-Za-z0-9_+\\-]+(/[A-Za-z0-9_+\\-]+){0,2}$"}


PROFILE = Schema(
    "Profile",
    {
        "name": String(
            **NAME_RULE, example="Alice", description="Not blank; one line: no control or format characters."
        ),
        "bio": String(
            max_length=500,
            one_line=False,
            nullable=True,
            example="Climbs on weekends.",
            description="Line breaks and tabs allowed; no other control or format characters.",
        ),
        "locale": String(
            max_length=35,
            pattern=LOCALE,
            nullable=True,
            example="pt-BR",
            message="must be a BCP 47 language tag such as en or pt-BR",
            description="A BCP 47 language tag such as en or pt-BR.",
        ),
        "timezone": TimeZone(
            nullable=True,
            description="A zone name of the IANA time zone database, such as Europe/Paris or UTC (case-sensitive).",
        ),
        "avatar_url": Url(
            nullable=True,
            example="https://cdn.example.com/alice.png",
            description="An https:// URL with a host, without user@ or backslashes.",
        ),
        "preferences": Map(
            AnyOf(String(max_length=MAX_PREFERENCE_TEXT), Number(), Boolean()),
            key=String(
                min_length=1,
                max_length=40,
                pattern=PREFERENCE_KEY,
                example="theme",
                message="must be a letter then up to 39 letters, digits, _ or -",
            ),
            max_items=MAX_PREFERENCES,
            nullable=True,
            example={"theme": "dark"},
            description="Replaced as a whole. Whole numbers beyond 2^53 either way are refused.",
        ),
    },
    description="A profile's writable fields.",
)
