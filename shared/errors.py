"""The errors a route may raise, each rendered as an RFC 9457 problem: public API of the toolkit.

Raise one of these anywhere below a route function; the router turns it into
an ``application/problem+json`` response. Anything else that escapes becomes a
500 problem that says nothing about its cause (the cause is logged).

    raise errors.Conflict("the order is shipped; it can no longer be cancelled")

A route names the classes its code raises (``errors=(NotFound, Conflict)`` on
:meth:`shared.router.Router.route`) so that openapi.yaml documents their
statuses; the ones the router raises itself (400 for a body or parameters, 401,
413, 415) and 503 (:func:`shared.db.mapped_errors`) need no naming. A subclass
with its own ``title`` and ``type`` is a new kind of problem of the same status.
"""

from __future__ import annotations

PROBLEM_BASE = "tag:bare-api,2026:problem/"
DETAIL_ERRORS = 5  # the problems a ValidationFailed names in its detail; errors lists them all


class HTTPError(Exception):
    """An error with an HTTP status, shown to the client as a problem document."""

    status = 500
    title = "Internal Server Error"
    type = "about:blank"

    def __init__(self, detail: str = "", *, headers: dict[str, str] | None = None, **extensions: object) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


class BadRequest(HTTPError):
    """400: the request cannot be answered as sent."""

    status = 400
    title = "Bad Request"


class MalformedEvent(BadRequest):
    """400: the event lacks what every API Gateway proxy event has (the router raises it)."""

    title = "Malformed Event"
    type = PROBLEM_BASE + "malformed-event"


class InvalidJSON(BadRequest):
    """400: the body is not JSON, or not UTF-8 (the router raises it for a route with ``body=``)."""

    title = "Invalid JSON"
    type = PROBLEM_BASE + "invalid-json"


class ValidationFailed(BadRequest):
    """The request was well-formed but its values break the API's rules.

    ``errors`` lists each offending field as ``{"field": ..., "message": ...}``;
    ``detail`` names the first few and counts the others (the problem document
    itself keeps the first 20 of ``errors``, see :func:`shared.responses.problem_response`).
    """

    title = "Validation Failed"
    type = PROBLEM_BASE + "validation-failed"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        shown = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:DETAIL_ERRORS])
        more = len(errors) - DETAIL_ERRORS
        super().__init__(f"{shown}; and {more} more" if more > 0 else shown, errors=errors)


class InvalidParameter(BadRequest):
    """400: a path or query parameter breaks its rule; pass ``parameter=`` its name, shown in the problem.

    The router raises it for ``params=`` and ``query=``; raise it for a parameter the code checks itself.
    """

    title = "Invalid Parameter"
    type = PROBLEM_BASE + "invalid-parameter"


class Unauthorized(HTTPError):
    """401: no authenticated caller (reading ``request.principal`` raises it)."""

    status = 401
    title = "Unauthorized"


class Forbidden(HTTPError):
    """403: the caller may not do this."""

    status = 403
    title = "Forbidden"


class NotFound(HTTPError):
    """404: nothing is at this path (the router raises it for an unknown path; name it for a missing resource)."""

    status = 404
    title = "Not Found"


class MethodNotAllowed(HTTPError):
    """405: the path exists but not with this method; the router adds ``Allow``."""

    status = 405
    title = "Method Not Allowed"


class Conflict(HTTPError):
    """409: the resource's state does not allow this (a transition it cannot make), or it already exists.

    :func:`shared.db.mapped_errors` raises it for a duplicate key.
    """

    status = 409
    title = "Conflict"
    type = PROBLEM_BASE + "conflict"


class PreconditionFailed(HTTPError):
    """412: ``If-Match`` named no stored revision (:mod:`shared.conditional`)."""

    status = 412
    title = "Precondition Failed"
    type = PROBLEM_BASE + "precondition-failed"


class PayloadTooLarge(HTTPError):
    """413: the body is larger than ``MAX_BODY_BYTES`` (the router raises it)."""

    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(HTTPError):
    """415: the body is not sent as JSON (the router raises it for a route with ``body=``)."""

    status = 415
    title = "Unsupported Media Type"


class ServiceUnavailable(HTTPError):
    """503 with ``Retry-After``: the database is unreachable or too slow (:func:`shared.db.mapped_errors`)."""

    status = 503
    title = "Service Unavailable"
    type = PROBLEM_BASE + "dependency-unavailable"
