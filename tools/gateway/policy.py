"""A Lambda authorizer's answer, checked and applied to a method ARN as API Gateway does.

An explicit ``Deny`` that covers the method ARN wins over any ``Allow``; a
policy that covers it with neither is an implicit deny. Resources and actions
use IAM wildcards: ``*`` for any run of characters, ``?`` for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "allow", "explicit deny", "implicit deny"
INVOKE_ACTION = "execute-api:Invoke"


class MalformedAuthorizerAnswer(ValueError):
    """The authorizer's answer is not a usable policy; API Gateway answers 500."""


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class AuthorizerAnswer:
    principal_id: str
    statements: tuple[Statement, ...]
    context: dict[str, str]  # values as the strings the integration receives


@cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern:
    translated = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(translated, re.IGNORECASE if ignore_case else 0)


def _strings(value, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(item, str) for item in values):
        raise MalformedAuthorizerAnswer(f"{where} must be a string or a list of strings")
    return tuple(values)


def _statement(raw) -> Statement:
    if not isinstance(raw, dict) or raw.get("Effect") not in ("Allow", "Deny"):
        raise MalformedAuthorizerAnswer("each policy statement needs an Effect of Allow or Deny")
    if "Action" not in raw or "Resource" not in raw:
        raise MalformedAuthorizerAnswer("each policy statement needs an Action and a Resource")
    return Statement(raw["Effect"], _strings(raw["Action"], "Action"), _strings(raw["Resource"], "Resource"))


def _context_value(key: str, value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedAuthorizerAnswer(f"context value {key!r} must be a string, number or boolean")


def read_answer(answer) -> AuthorizerAnswer:
    """Check what a REST API Lambda authorizer returned; raise :class:`MalformedAuthorizerAnswer`."""
    if not isinstance(answer, dict):
        raise MalformedAuthorizerAnswer("the authorizer must return an object")
    principal_id = answer.get("principalId")
    if not isinstance(principal_id, str) or not principal_id:
        raise MalformedAuthorizerAnswer("principalId must be a non-empty string")
    document = answer.get("policyDocument")
    if not isinstance(document, dict) or "Statement" not in document:
        raise MalformedAuthorizerAnswer("policyDocument must be an object with a Statement")
    raw_statements = document["Statement"]
    statements = tuple(
        _statement(raw) for raw in (raw_statements if isinstance(raw_statements, list) else [raw_statements])
    )
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        raise MalformedAuthorizerAnswer("context must be an object")
    return AuthorizerAnswer(
        principal_id, statements, {key: _context_value(key, value) for key, value in context.items()}
    )


def _covers(statement: Statement, method_arn: str) -> bool:
    return any(_wildcard(action, True).fullmatch(INVOKE_ACTION) for action in statement.actions) and any(
        _wildcard(resource, False).fullmatch(method_arn) for resource in statement.resources
    )


def evaluate(answer: AuthorizerAnswer, method_arn: str) -> str:
    """:data:`ALLOW`, :data:`EXPLICIT_DENY` or :data:`IMPLICIT_DENY` for ``method_arn``."""
    covering = [statement.effect for statement in answer.statements if _covers(statement, method_arn)]
    if "Deny" in covering:
        return EXPLICIT_DENY
    return ALLOW if "Allow" in covering else IMPLICIT_DENY
