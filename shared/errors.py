"""The errors a route may raise, each rendered as an RFC 9457 problem.

Raise one of these anywhere below a route function; the router turns it into
an ``application/problem+json`` response. Anything else that escapes becomes a
500 problem that says nothing about its cause (the cause is logged).
"""

from __future__ import annotations

PROBLEM_BASE = "tag:bare-api,2026:problem/"
DETAIL_ERRORS = 5  # the problems a ValidationFailed names in its detail; errors lists them all


class HTTPError(Exception):
    """An error with an HTTP status, shown to the client as a problem document."""

    status = 500
    title = "Internal Server Error"
    type = "about:blank"

    def __init__(self, detail: str = "", *, headers: dict[str, str] | None = None, **extensions) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


class BadRequest(HTTPError):
    status = 400
    title = "Bad Request"


class MalformedEvent(BadRequest):
    title = "Malformed Event"
    type = PROBLEM_BASE + "malformed-event"


class InvalidJSON(BadRequest):
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
    title = "Invalid Parameter"
    type = PROBLEM_BASE + "invalid-parameter"


class Unauthorized(HTTPError):
    status = 401
    title = "Unauthorized"


class Forbidden(HTTPError):
    status = 403
    title = "Forbidden"


class NotFound(HTTPError):
    status = 404
    title = "Not Found"


class MethodNotAllowed(HTTPError):
    status = 405
    title = "Method Not Allowed"


class Conflict(HTTPError):
    status = 409
    title = "Conflict"
    type = PROBLEM_BASE + "conflict"


class PreconditionFailed(HTTPError):
    status = 412
    title = "Precondition Failed"
    type = PROBLEM_BASE + "precondition-failed"


class PayloadTooLarge(HTTPError):
    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(HTTPError):
    status = 415
    title = "Unsupported Media Type"


class ServiceUnavailable(HTTPError):
    status = 503
    title = "Service Unavailable"
    type = PROBLEM_BASE + "dependency-unavailable"
