"""Secret values given directly or as a Secrets Manager / SSM reference.

A setting such as ``MONGODB_URI`` or ``JWT_SECRET`` may hold the value itself
(local runs), or a reference fetched once per container:

- ``arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`` (a secret's ARN;
  its ``SecretString`` is the value)
- ``arn:<partition>:ssm:<region>:<account>:parameter/<name>`` (a SecureString's ARN)
- ``ssm:/<name>`` (a parameter name in the function's own region)

boto3 is imported only when a reference is resolved.
"""

from __future__ import annotations

from functools import cache

SSM_NAME_PREFIX = "ssm:"
# Two attempts of at most 1 s to connect and 1 s to read: a failing fetch ends well within the
# authorizer's 5 s and the API functions' 10 s timeouts.
FETCH_TIMEOUT_SECONDS = 1


class SecretError(RuntimeError):
    """A secret reference could not be resolved."""


def _arn_service(value: str) -> str:
    parts = value.split(":", 5)
    return parts[2] if value.startswith("arn:") and len(parts) == 6 else ""


def is_reference(value: str) -> bool:
    """Whether ``value`` names a secret rather than being one."""
    return value.startswith(SSM_NAME_PREFIX) or _arn_service(value) in ("secretsmanager", "ssm")


def _region_of(arn: str) -> str | None:
    return arn.split(":")[3] or None


def _client(service: str, region: str | None):
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=FETCH_TIMEOUT_SECONDS, read_timeout=FETCH_TIMEOUT_SECONDS, retries={"total_max_attempts": 2}
    )
    return boto3.client(service, region_name=region, config=config)


@cache
def resolve(value: str) -> str:
    """The secret named by ``value``, or ``value`` itself when it is no reference.

    Fetched values are cached for the life of the container. Raises
    :class:`SecretError` (never the AWS error, whose text may name resources).
    """
    if not is_reference(value):
        return value
    try:
        if _arn_service(value) == "secretsmanager":
            answer = _client("secretsmanager", _region_of(value)).get_secret_value(SecretId=value)
            secret = answer.get("SecretString")
        elif _arn_service(value) == "ssm":
            name = value.split(":parameter", 1)[1]
            answer = _client("ssm", _region_of(value)).get_parameter(Name=name, WithDecryption=True)
            secret = answer["Parameter"]["Value"]
        else:
            name = value[len(SSM_NAME_PREFIX):]
            answer = _client("ssm", None).get_parameter(Name=name, WithDecryption=True)
            secret = answer["Parameter"]["Value"]
    except Exception as exc:
        raise SecretError(f"could not read the secret {value}: {type(exc).__name__}") from exc
    if not secret:
        raise SecretError(f"the secret {value} is empty or binary")
    return secret
