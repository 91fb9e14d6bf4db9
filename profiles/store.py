"""Profile documents: storage, revisions and the views shown to clients.

A profile's ``_id`` is the token's ``sub``. Every write stores a new random
``revision``; the ETag of ``/me`` and ``/users/{id}`` is that revision, and
``If-Match`` updates are compare-and-swap on it, so a stale writer gets 412.
"""

from __future__ import annotations

import os
from functools import cache

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared import db, errors
from shared.principal import Principal

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from typing import TypedDict

    from shared.db import Document
    from shared.schema import String

    class NameRule(TypedDict):
        min_length: int
        max_length: int
        blank: bool


COLLECTION = "profiles"
PRIVATE_FIELDS = ("email", "name", "bio", "locale", "timezone", "avatar_url", "preferences", "created_at", "updated_at")
PUBLIC_FIELDS = ("name", "bio", "avatar_url", "created_at")
PUBLIC_PROJECTION = {field: 1 for field in (*PUBLIC_FIELDS, "revision")}
# The order of GET /users: newest first, _id breaks ties, backed by the index below.
LIST_ORDER = [("created_at", -1), ("_id", -1)]
# Created by `make indexes` (tools/indexes.py collects every module's INDEXES).
INDEXES = {COLLECTION: [IndexModel(LIST_ORDER, name="profiles_newest_first")]}


def _now():
    """The time a write stores, in milliseconds as BSON holds them (a cursor made from a stored date is exact)."""
    from shared import pagination  # loaded by the first write or listing, not by every cold start

    return pagination.now()


def new_revision() -> str:
    return os.urandom(6).hex()


def etag(document: Document) -> str:
    return f'"{document["revision"]}"'


def private_view(document: Document) -> Document:
    """The owner's view of a profile (GET /me)."""
    view = {"id": document["_id"]}
    for field in PRIVATE_FIELDS:  # a loop, not a generator: half the work on every GET /me
        if field in document:
            view[field] = document[field]
    return view


def public_view(document: Document) -> Document:
    """What anyone may see of a profile: never the email or internal fields."""
    view = {"id": document["_id"]}
    for field in PUBLIC_FIELDS:
        if field in document:
            view[field] = document[field]
    return view


# A profile's name: PATCH /me's body rule (profiles/schema.py) and the rule of a name taken from claims.
NAME_RULE: NameRule = {"min_length": 1, "max_length": 100, "blank": False}
FALLBACK_NAME = "user"


@cache
def _name_field() -> String:
    from shared.schema import String  # only a profile's first write needs it

    return String(**NAME_RULE)


def name_from_claims(principal: Principal) -> str:
    """The first of the token's ``name``, its email's local part and its ``sub`` that the profile's name rule
    accepts (``PATCH /me`` would accept it too), else ``"user"``."""
    from shared.schema import FieldError

    rule = _name_field()
    for candidate in (principal.name, principal.email.partition("@")[0], principal.sub):
        try:
            name: str = rule.check(candidate)
            return name
        except FieldError:
            continue
    return FALLBACK_NAME


def _from_claims(principal: Principal) -> Document:
    """A new profile from the caller's claims; :class:`Principal` holds only claims that follow the text rule."""
    now = _now()
    document = {"_id": principal.sub, "created_at": now, "updated_at": now, "revision": new_revision()}
    if principal.email:
        document["email"] = principal.email
    document["name"] = name_from_claims(principal)
    return document


def get_or_create(principal: Principal) -> Document:
    """The caller's profile, created from the token's claims the first time."""
    with db.mapped_errors():
        profiles = db.collection(COLLECTION)
        document = profiles.find_one({"_id": principal.sub})
        if document is not None:
            return document
        document = _from_claims(principal)
        try:
            profiles.insert_one(document)
        except DuplicateKeyError:  # a concurrent first request created it
            document = profiles.find_one({"_id": principal.sub}) or document
    return document


def find_public(user_id: str) -> Document | None:
    """The public fields and revision of one profile, or None."""
    with db.mapped_errors():
        return db.collection(COLLECTION).find_one({"_id": user_id}, PUBLIC_PROJECTION)


def _owner_query(principal: Principal, if_match: list[str] | str | None) -> Document:
    from shared.conditional import ANY  # only a write's condition needs it, not every cold start

    query: Document = {"_id": principal.sub}
    if if_match == ANY:
        query["revision"] = {"$exists": True}
    elif if_match is not None:
        query["revision"] = {"$in": list(if_match)}
    return query


MISSING = "the profile does not exist; If-Match needs an existing profile (GET /me creates it)"
CHANGED = "the profile changed since you read it; GET it again and retry"


def _precondition_failed(principal: Principal) -> errors.PreconditionFailed:
    """The 412 for a conditional write that matched nothing: say whether the profile is missing or changed."""
    with db.mapped_errors():
        exists = db.collection(COLLECTION).find_one({"_id": principal.sub}, {"_id": 1}) is not None
    return errors.PreconditionFailed(CHANGED if exists else MISSING)


def update(principal: Principal, to_set: Document, to_unset: list[str], if_match: list[str] | str | None) -> Document:
    """Apply a validated change to the caller's profile and return the new document.

    ``if_match`` comes from :func:`shared.conditional.if_match_revisions`: None
    (unconditional), ``"*"`` (the profile must exist) or the revisions the
    client accepts. Without a condition a missing profile is first created
    from the claims; with one, a missing or changed profile gives 412.
    """
    now = _now()
    change = {"$set": {**to_set, "updated_at": now, "revision": new_revision()}}
    if to_unset:
        change["$unset"] = {field: "" for field in to_unset}
    query = _owner_query(principal, if_match)
    if if_match is None:
        defaults = _from_claims(principal)
        changed = (*to_set, *to_unset, "_id", "updated_at", "revision")
        change["$setOnInsert"] = {key: value for key, value in defaults.items() if key not in changed}
    with db.mapped_errors():
        document = db.collection(COLLECTION).find_one_and_update(
            query, change, upsert=if_match is None, return_document=ReturnDocument.AFTER
        )
    if document is None:
        raise _precondition_failed(principal)
    return document


def delete(principal: Principal, if_match: list[str] | str | None) -> None:
    """Delete the caller's profile; with ``if_match``, only at an accepted revision (else 412)."""
    query = _owner_query(principal, if_match)
    with db.mapped_errors():
        deleted = db.collection(COLLECTION).delete_one(query).deleted_count
    if if_match is not None and not deleted:
        raise _precondition_failed(principal)


def list_public(cursor: str | None, limit: int) -> tuple[list[Document], str | None]:
    """One page of public profiles in :data:`LIST_ORDER` from the client's ``cursor``, and the next cursor."""
    from shared import pagination

    return pagination.page(db.collection(COLLECTION), {}, LIST_ORDER, cursor, limit, PUBLIC_PROJECTION)
