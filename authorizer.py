"""The JWT Lambda authorizer API Gateway runs before every route but ``/health``.

It reads three payloads and answers each the way API Gateway expects:

============================  ===========================  ================================
payload                       token from                   answer
============================  ===========================  ================================
REST API, ``type: TOKEN``     ``authorizationToken``       IAM policy, or raise Unauthorized
REST API, ``type: REQUEST``   the Authorization header     IAM policy, or raise Unauthorized
HTTP API, payload 2.0         the authorization header     ``{"isAuthorized": ...}``
============================  ===========================  ================================

An allowed caller gets a policy for every method and route of the same API
and stage, because API Gateway caches the first answer for the token and
reuses it on the caller's other routes. Any failure that is not the caller's
(configuration, identity provider down) is raised as an error, which API
Gateway turns into a 500: never an Allow.
"""

from __future__ import annotations

from shared import early

early.secret("JWT_SECRET")  # its fetch starts now, while jwt imports

from shared import observability, tokens
from shared.principal import Principal

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from typing import Any

    Claims = dict[str, Any]

FUNCTION = "authorizer"  # the function dimension of its metrics
REFUSALS_METRIC, FAILURES_METRIC = "AuthorizerRefusals", "AuthorizerFailures"
UNAUTHORIZED = "Unauthorized"  # the one error message API Gateway answers with a 401
MAX_REASON_CHARS = 500
# The characters of a methodArn's fields (sets, not a regex: one would cost a cold start to compile).
PARTITION_TAIL = frozenset("abcdefghijklmnopqrstuvwxyz-")  # after "aws": aws, aws-cn, aws-us-gov
REGION_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
STAGE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$-")
REST_TOKEN, REST_REQUEST, HTTP_API = "TOKEN", "REQUEST", "HTTP"


class Unauthorized(Exception):
    """Raised with the message ``Unauthorized``: API Gateway's signal for a 401."""


class AuthorizerFailure(RuntimeError):
    """Anything but a refused token went wrong; API Gateway answers 500 and allows nothing."""


def payload_kind(event: object) -> str:
    """Which authorizer payload ``event`` is; ValueError when it is none of them."""
    if isinstance(event, dict):
        if event.get("version") == "2.0" and "routeArn" in event:
            return HTTP_API
        if event.get("type") in (REST_TOKEN, REST_REQUEST) and "methodArn" in event:
            return REST_TOKEN if event["type"] == REST_TOKEN else REST_REQUEST
    raise ValueError("the event is no API Gateway authorizer payload")


def authorization_of(event: dict[str, Any], kind: str) -> object:
    """The Authorization value the caller sent; InvalidToken when absent or repeated."""
    if kind == REST_TOKEN:
        return event.get("authorizationToken") or ""
    headers = event.get("headers") or {}
    if kind == HTTP_API and not event.get("multiValueHeaders") and _lower_case_names(headers):
        return headers.get("authorization") or ""  # one name per header: an HTTP API lower-cases and joins them
    values = [value for name, value in headers.items() if name.lower() == "authorization"]
    for name, repeated in (event.get("multiValueHeaders") or {}).items():
        if name.lower() == "authorization" and len(repeated) > 1:
            raise tokens.InvalidToken("send exactly one Authorization header")
    if len(values) > 1:
        raise tokens.InvalidToken("send exactly one Authorization header")
    return values[0] if values else ""


def _lower_case_names(headers: object) -> bool:
    """Whether every name in ``headers`` is a string in lower case (checked at once, in one joined string)."""
    try:
        names = "".join(headers)  # type: ignore[arg-type]  # any value: a TypeError says it holds no names
    except TypeError:
        return False
    return names == names.lower()


def stage_wide_resource(method_arn: object) -> str:
    """``arn:...:<apiId>/<stage>/*/*`` for the API and stage of ``method_arn``, whatever its path holds."""
    # arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>, as API Gateway documents
    # methodArn: only the first five colons separate fields; the path, the last field, may hold any number more.
    fields = method_arn.split(":", 5) if isinstance(method_arn, str) else []
    if len(fields) == 6 and len(pieces := fields[5].split("/", 3)) == 4:
        arn, partition, service, region, account, _ = fields
        api, stage, method, _ = pieces
        if (
            arn == "arn"
            and partition[:3] == "aws"
            and PARTITION_TAIL.issuperset(partition[3:])
            and service == "execute-api"
            and region
            and REGION_CHARACTERS.issuperset(region)
            and len(account) == 12
            and account.isascii()
            and account.isdigit()
            and api.isascii()
            and api.isalnum()
            and stage
            and STAGE_CHARACTERS.issuperset(stage)
            and method.isascii()
            and method.isalpha()
        ):
            return f"arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/*/*"
    raise ValueError("methodArn is no execute-api ARN laid out as API Gateway documents it")


def context_of(claims: Claims) -> dict[str, str]:
    """What handlers read back: flat, strings only, as :func:`Principal.from_claims` reads it.

    InvalidToken when the claims name no caller :func:`Principal.from_claims` accepts.
    """
    principal = Principal.from_claims(claims)
    if principal is None:
        raise tokens.InvalidToken("the token has no usable sub claim")
    sub, email, name, scopes = principal  # unpacked: one step, where four reads by name are four
    return {"sub": sub, "email": email, "name": name, "scope": " ".join(scopes)}


def allow(kind: str, event: dict[str, Any], claims: Claims) -> dict[str, Any]:
    context = context_of(claims)
    if kind == HTTP_API:
        return {"isAuthorized": True, "context": context}
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": stage_wide_resource(event["methodArn"])}
    return {
        "principalId": context["sub"],
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": context,
    }


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", "")
    try:
        kind = payload_kind(event)
        claims = tokens.verify_authorization(authorization_of(event, kind))
        answer = allow(kind, event, claims)
    except tokens.InvalidToken as refused:
        # Counted per version (EMF), so that a canary whose new version refuses valid tokens rolls back.
        observability.log_counted(
            "INFO",
            "token refused",
            metric=REFUSALS_METRIC,
            function=FUNCTION,
            decision="deny",
            payload=kind,
            reason=str(refused),
            request_id=request_id,
        )
        if kind == HTTP_API:
            return {"isAuthorized": False}
        raise Unauthorized(UNAUTHORIZED) from None
    except Exception as failure:
        reason = observability.redact(str(failure))[:MAX_REASON_CHARS]  # redacted first: a cut could split a secret
        # Counted per version (EMF), so that a canary's alarm counts its own failures.
        observability.log_counted(
            "ERROR",
            "authorizer failure",
            metric=FAILURES_METRIC,
            function=FUNCTION,
            decision="error",
            error=type(failure).__name__,
            reason=reason,
            request_id=request_id,
        )
        raise AuthorizerFailure(f"the authorizer failed ({type(failure).__name__}: {reason})") from None
    # DEBUG, not INFO: a log line per Allow would cost more than the verification itself;
    # API Gateway's access log can record $context.authorizer.principalId instead.
    if observability.logs("DEBUG"):
        observability.log(
            "DEBUG", "token accepted", decision="allow", payload=kind, sub=claims["sub"], request_id=request_id
        )
    return answer
