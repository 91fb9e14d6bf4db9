"""Who is calling: read from wherever API Gateway put the authorizer's result.

API Gateway places the caller's identity in one of four shapes of
``requestContext.authorizer``:

=================================  ==========================================
REST API, Lambda authorizer        ``authorizer.<key>`` (values are strings)
REST API, Cognito authorizer       ``authorizer.claims.<claim>``
HTTP API, Lambda authorizer        ``authorizer.lambda.<key>``
HTTP API, JWT authorizer           ``authorizer.jwt.claims.<claim>``
=================================  ==========================================
"""

from __future__ import annotations

from functools import cache
from operator import itemgetter

from shared.config import settings
from shared.text import is_text

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from typing import Any

    from shared.schema import String

    Claims = dict[str, Any]

MAX_SUB_LENGTH = 255
MAX_NAME_CLAIM = 200
MAX_EMAIL_CLAIM = 254  # RFC 5321's longest path, less its angle brackets
MAX_SCOPES, MAX_SCOPE_LENGTH = 100, 128
LATEST_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z


def sub_problem(sub: object) -> str | None:
    """Why ``sub`` cannot name a caller, or None when it can.

    It must be a string of 1 to 255 printable characters that fits in one path
    segment of ``/users/{user_id}``: no ``/``, ``?`` or ``#`` (an HTTP API
    decodes the path before routing, so not even percent-encoded), and not ``.``
    or ``..`` (clients remove such segments from URLs).
    """
    if not isinstance(sub, str) or not sub or sub.isspace() or len(sub) > MAX_SUB_LENGTH:
        return f"must be a non-empty string of at most {MAX_SUB_LENGTH} characters"
    if not sub.isprintable() or "/" in sub or "?" in sub or "#" in sub or sub in (".", ".."):
        return "must fit in one URL path segment: printable, without /, ? or #, and not . or .."
    return None


@cache
def _claim_fields() -> dict[str, String]:
    """The field rules of the text claims, built on first use (the health function never reads a principal)."""
    from shared.schema import String

    return {
        "name": String(min_length=1, max_length=MAX_NAME_CLAIM, blank=False),
        "email": String(min_length=3, max_length=MAX_EMAIL_CLAIM, blank=False),
    }


def claim_text(name: str, value: object) -> str:
    """The claim ``name`` when it follows the text rule bodies follow, else "".

    The rule is :func:`shared.text.is_text` (no lone surrogate), then
    :class:`shared.schema.String`'s, one line: a string, not blank, bounded,
    without control or format characters (no NUL, line break, U+202E...).
    An ``email`` also needs one ``@`` with text on both sides and no whitespace.
    """
    if value is None or value == "":
        return ""
    email = name == "email"
    # The usual claim: printable text of 1 to its limit characters, not blank, checked in one pass. (str.isprintable
    # is false for every character the rule refuses; the rule also takes a few it is false for, such as U+200D.)
    if type(value) is str and len(value) <= (MAX_EMAIL_CLAIM if email else MAX_NAME_CLAIM) and value.isprintable():
        if value.isspace():
            return ""  # blank
        if not email:
            return value
    else:
        from shared.schema import FieldError  # the full rule, for text that is not plain printable text

        if not is_text(value):
            return ""
        try:
            _claim_fields()[name].check(value)  # a String's check gives back the value itself
        except FieldError:
            return ""
    if email:
        local, at, domain = value.rpartition("@")
        if not (local and at and domain) or " " in value or not value.isprintable():
            return ""
    return value


# The checker reads the fields as a NamedTuple's; at run time a tuple with a property per field, which costs a cold
# start no compile, unlike a namedtuple.
if TYPE_CHECKING:
    from typing import NamedTuple

    class _PrincipalFields(NamedTuple):
        sub: str
        email: str = ""
        name: str = ""
        scopes: tuple[str, ...] = ()
else:

    class _PrincipalFields(tuple):
        """``(sub, email, name, scopes)`` with a name for each part, as a namedtuple has them."""

        __slots__ = ()

        def __new__(cls, sub, email="", name="", scopes=()):
            return tuple.__new__(cls, (sub, email, name, scopes))

        def __repr__(self):
            return "Principal(sub={!r}, email={!r}, name={!r}, scopes={!r})".format(*self)

        sub = property(itemgetter(0), doc="The token's subject.")
        email = property(itemgetter(1), doc='The email claim, or "".')
        name = property(itemgetter(2), doc='The name claim, or "".')
        scopes = property(itemgetter(3), doc="The scope tokens.")


class Principal(_PrincipalFields):
    """The authenticated caller: the token's subject (str) and the claims handlers use.

    ``email`` and ``name`` are strings, "" when absent or when they break the
    text rule of :func:`claim_text`; ``scopes`` a tuple of scope tokens
    (RFC 6749: printable ASCII without space, ``"`` or ``\\``).
    """

    __slots__ = ()

    @classmethod
    def from_claims(cls, claims: Claims) -> Principal | None:
        """The principal in a flat mapping of claims, or None without a usable ``sub``."""
        sub = claims.get("sub") or claims.get("principalId")
        if not isinstance(sub, str) or sub_problem(sub) is not None:
            return None
        scopes = claims.get("scope")
        email, name = claims.get("email"), claims.get("name")
        return tuple.__new__(  # cls(...) without the call of __new__: every request behind the authorizer builds one
            cls,
            (
                sub,
                claim_text("email", email) if email else "",
                claim_text("name", name) if name else "",
                _scopes(claims.get("scopes") if scopes is None and "scope" not in claims else scopes),
            ),
        )


def _is_scope(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_SCOPE_LENGTH
        and value.isascii()
        and value.isprintable()
        and " " not in value
        and '"' not in value
        and "\\" not in value
    )


def _scopes(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        text = value.strip("[]")
        value = text.split()
        if (
            text.isascii()
            and text.isprintable()
            and '"' not in text
            and "\\" not in text
            and len(value) <= MAX_SCOPES
            and (len(text) <= MAX_SCOPE_LENGTH or max(map(len, value), default=0) <= MAX_SCOPE_LENGTH)
        ):
            return tuple(value)  # the usual case: the whole text checked at once
    if not isinstance(value, list):
        return ()
    return tuple(scope for scope in value[:MAX_SCOPES] if _is_scope(scope))


def _jwt_principal(jwt: dict[str, Any]) -> Principal | None:
    """The caller an HTTP API JWT authorizer let through: its claims or nobody; 401 for what it does not check."""
    claims = jwt.get("claims")
    if not isinstance(claims, dict):
        return None
    problem = jwt_authorizer_problem(claims)
    if problem is not None:
        from shared import errors  # only to refuse: the authorizer's cold start never loads the problem types

        raise errors.Unauthorized(problem)
    if jwt.get("scopes") and "scope" not in claims:
        claims = {**claims, "scopes": jwt["scopes"]}
    return Principal.from_claims(claims)


def _principal_in(authorizer: dict[str, Any]) -> Principal | None:
    jwt = authorizer.get("jwt")
    if isinstance(jwt, dict):
        return _jwt_principal(jwt)
    for key in ("lambda", "claims"):
        if isinstance(authorizer.get(key), dict):
            return Principal.from_claims(authorizer[key])
    return Principal.from_claims(authorizer)


def _seconds(value: object) -> int | None:
    """A NumericDate as the HTTP API's JWT authorizer passes it (a string of ASCII digits, or a number), or None."""
    if isinstance(value, str) and 0 < len(value) <= 12 and value.isascii() and value.isdigit():
        value = int(value)
    if type(value) is int and 0 <= value <= LATEST_NUMERIC_DATE:
        return value
    return None


def jwt_authorizer_problem(claims: Claims) -> str | None:
    """What the HTTP API's JWT authorizer let through that this API refuses, or None.

    API Gateway checks the signature, ``iss``, ``aud``, ``exp``, ``nbf`` and
    ``iat`` when present; it hands the claims over as strings. Left to check
    here: ``iat`` and ``exp`` present, whole seconds in ASCII digits (years 1970
    to 9999), and ``exp - iat`` within ``JWT_MAX_LIFETIME_SECONDS``.
    """
    issued, expires = _seconds(claims.get("iat")), _seconds(claims.get("exp"))
    if issued is None or expires is None:
        return "the token needs iat and exp claims in whole seconds"
    limit = settings().jwt_max_lifetime_seconds
    if limit and expires - issued > limit:
        return f"the token lives longer (exp - iat) than the {limit} s this API accepts"
    return None


def principal_from_authorizer(request_context: dict[str, Any]) -> Principal | None:
    """The caller named by ``requestContext.authorizer``, or None; 401 for what a JWT authorizer let through that
    this API refuses (:func:`jwt_authorizer_problem`).

    A ``jwt`` block (HTTP API JWT authorizer) is the only source when present:
    without a claims object it names nobody.
    """
    authorizer = request_context.get("authorizer")
    return _principal_in(authorizer) if isinstance(authorizer, dict) else None


def local_principal(authorization: str | None) -> Principal:
    """For an event without an authorizer's result: with ``LOCAL_AUTH=true`` (local runs only), the caller of the
    bearer token in ``authorization`` (the Authorization header), verified in-process with the same verifier the
    authorizer function uses; 401 otherwise."""
    if settings().local_auth and authorization is not None:
        return _principal_from_bearer(authorization)
    from shared import errors

    raise errors.Unauthorized("this route needs an authenticated caller")


def principal_from_event(request_context: dict[str, Any], headers: dict[str, str]) -> Principal:
    """The caller named by ``requestContext.authorizer`` (:func:`principal_from_authorizer`), else the local
    bearer token in ``headers`` (:func:`local_principal`); raise 401 when there is none."""
    principal = principal_from_authorizer(request_context)
    return principal if principal is not None else local_principal(headers.get("authorization"))


def _principal_from_bearer(authorization: str) -> Principal:
    from shared import errors, tokens

    try:
        claims = tokens.verify_authorization(authorization)
    except tokens.InvalidToken as exc:
        raise errors.Unauthorized(f"the bearer token was refused: {exc}") from None
    principal = Principal.from_claims(claims)
    if principal is None:
        raise errors.Unauthorized("the bearer token has no usable sub claim")
    return principal
