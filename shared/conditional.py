"""Conditional requests for any resource (RFC 9110 section 13): ETags, ``If-None-Match`` and ``If-Match``.

A document that takes part keeps a ``revision`` field, a new random value stored by every write
(:func:`new_revision`); its ETag is that revision in quotes (:func:`etag`). A read answers 304 when the
client already has the revision (:func:`read_response`); a write or a delete applies only when the
stored revision is one the client names in ``If-Match``, as a single compare-and-swap query
(:func:`update`, :func:`delete`), else 412. Declare ``conditional=True`` on the route, so that
openapi.yaml documents the header and the 304 or 412:

    @router.get("/notes/{note_id}", params=NOTE_ID, errors=(NotFound,), conditional=True)
    def read_note(request):
        note = find_note(request)  # NotFound when there is none
        return read_response(request, view(note), note["revision"])

    @router.patch("/notes/{note_id}", params=NOTE_ID, body=NOTE.patch(), errors=(NotFound,), conditional=True)
    def update_note(request):
        to_set, to_unset = merge_patch_parts(request.data)
        query = {"_id": request.path_params["note_id"], "owner": request.principal.sub}
        note = update(db.collection("notes"), query, {"$set": to_set}, request)
        return read_response(request, view(note), note["revision"])

The helpers that read only headers import nothing; :func:`update` and :func:`delete` load the driver.
"""

from __future__ import annotations

import os

from shared import errors
from shared.responses import Response, empty_response, json_response

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from typing import Any

    from shared.request import Request

ANY = "*"
REVISION = "revision"  # the field of a document that holds its revision
CHANGED = "{what} changed since you read it; GET it again and retry"
MISSING = "{what} does not exist; If-Match needs an existing one"


def new_revision() -> str:
    """A new random revision (12 hex digits), stored by every write."""
    return os.urandom(6).hex()


def etag(revision: str) -> str:
    """The strong ETag of a revision: the revision in double quotes."""
    return f'"{revision}"'


def _entity_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/").strip('"')


def if_match_revisions(header: str | None) -> list[str] | str | None:
    """What ``If-Match`` demands: None (no header), ``"*"`` (any revision) or a list of revisions.

    Weak tags never match under ``If-Match`` (strong comparison), so they are
    dropped; a header holding only weak tags yields an empty list, which no
    revision matches.
    """
    if header is None:
        return None
    tags = _entity_tags(header)
    if ANY in tags:
        return ANY
    return [_opaque(tag) for tag in tags if not tag.startswith("W/")]


def none_match(header: str | None, current_etag: str) -> bool:
    """Whether ``If-None-Match`` matches ``current_etag`` (weak comparison): answer 304."""
    if header is None:
        return False
    tags = _entity_tags(header)
    return ANY in tags or _opaque(current_etag) in {_opaque(tag) for tag in tags}


def revision_query(if_match: list[str] | str | None) -> dict[str, Any]:
    """The query condition :func:`if_match_revisions` asks for: none, any stored revision, or one of those named."""
    if if_match is None:
        return {}
    if if_match == ANY:
        return {REVISION: {"$exists": True}}
    return {REVISION: {"$in": list(if_match)}}


def read_response(request: Request, body: object, revision: str, headers: dict[str, str] | None = None) -> Response:
    """200 with ``body`` and the revision's ETag, or 304 (same headers, no body) when ``If-None-Match`` matches.

    ``headers`` (such as ``cache-control``) go on both answers.
    """
    answer_headers = {"etag": etag(revision), **(headers or {})}
    if none_match(request.header("if-none-match"), answer_headers["etag"]):
        return empty_response(304, answer_headers)
    return json_response(body, headers=answer_headers)


def _refusal(collection: Any, query: dict[str, Any], if_match: object, what: str) -> errors.HTTPError:
    """Why nothing matched: 404 without a condition; with one, 412 saying whether the document is missing or changed."""
    if if_match is None:
        return errors.NotFound(f"{what} does not exist")
    exists = collection.find_one(query, {"_id": 1}) is not None
    return errors.PreconditionFailed((CHANGED if exists else MISSING).format(what=what))


def update(
    collection: Any, query: dict[str, Any], change: dict[str, Any], request: Request, what: str = "the resource"
) -> dict[str, Any]:
    """Apply ``change`` (an update document) to the one document ``query`` finds, at a revision ``If-Match`` accepts.

    One ``find_one_and_update`` whose filter holds the revision condition (compare-and-swap): a new
    revision is set with the change, and the updated document is returned. Without ``If-Match`` the
    write is unconditional. Nothing matched: 404 ``NotFound`` without ``If-Match``, else 412
    ``PreconditionFailed`` whose detail says whether the document is missing or changed. Driver
    failures are 503 (:func:`shared.db.mapped_errors`).
    """
    from pymongo import ReturnDocument

    from shared import db

    if_match = if_match_revisions(request.header("if-match"))
    change = {**change, "$set": {**change.get("$set", {}), REVISION: new_revision()}}
    with db.mapped_errors():
        document: dict[str, Any] | None = collection.find_one_and_update(
            {**query, **revision_query(if_match)}, change, return_document=ReturnDocument.AFTER
        )
        if document is None:
            raise _refusal(collection, query, if_match, what)
    return document


def delete(collection: Any, query: dict[str, Any], request: Request, what: str = "the resource") -> None:
    """Delete the one document ``query`` finds, at a revision ``If-Match`` accepts; 404 or 412 as :func:`update`."""
    from shared import db

    if_match = if_match_revisions(request.header("if-match"))
    with db.mapped_errors():
        if not collection.delete_one({**query, **revision_query(if_match)}).deleted_count:
            raise _refusal(collection, query, if_match, what)
