"""Secret values given directly or as a Secrets Manager / SSM reference.

A setting such as ``MONGODB_URI`` or ``JWT_SECRET`` may hold the value itself
(local runs), or a reference fetched once per container:

- ``arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`` (a secret's ARN;
  its ``SecretString`` is the value)
- ``arn:<partition>:ssm:<region>:<account>:parameter/<name>`` (a SecureString's ARN)
- ``ssm:/<name>`` (a parameter name in the function's own region)

References are fetched with the standard library (:mod:`shared.aws`: one
signed HTTPS call, no boto3), which is imported only when there is one to
fetch. :func:`prefetch` starts a fetch in a background thread, so that it
overlaps the imports that follow; :func:`resolve` waits for it.
"""

from __future__ import annotations

import os
import threading

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Mapping

SSM_NAME_PREFIX = "ssm:"
# partition:region:account of an ARN; the region as botocore checks one, in AWS's lower case.
REGION_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def is_region(text: str) -> bool:
    """Whether ``text`` is shaped like an AWS region (``eu-west-1``): 1 to 63 of a-z, 0-9 and ``-``, no ``-`` at
    either end. (String checks: a regular expression would cost a cold start to compile.)"""
    return (
        0 < len(text) <= 63
        and REGION_CHARACTERS.issuperset(text)
        and not text.startswith("-")
        and not text.endswith("-")
    )


def _is_partition(text: str) -> bool:
    """``aws``, or ``aws-`` then groups of a-z joined by ``-`` (``aws-cn``, ``aws-us-gov``)."""
    first, *rest = text.split("-")
    return first == "aws" and all(part.isascii() and part.isalpha() and part.islower() for part in rest)


def _is_account(text: str) -> bool:
    return len(text) == 12 and text.isascii() and text.isdigit()


class SecretError(RuntimeError):
    """A secret reference could not be resolved. The message names the reference, never the value."""


class Reference:
    """What to ask AWS for: ``operation`` of ``service`` (``secretsmanager`` or ``ssm``) with ``payload``.

    (A plain class: a namedtuple costs a cold start a compile to create.)
    """

    __slots__ = ("operation", "partition", "payload", "region", "service")

    def __init__(
        self, service: str, partition: str | None, region: str, operation: str, payload: dict[str, object]
    ) -> None:
        self.service = service
        self.partition = partition
        self.region = region
        self.operation = operation
        self.payload = payload


def _arn_service(value: str) -> str:
    parts = value.split(":", 5)
    return parts[2] if value.startswith("arn:") and len(parts) == 6 else ""


def is_reference(value: str) -> bool:
    """Whether ``value`` names a secret rather than being one."""
    return value.startswith(SSM_NAME_PREFIX) or _arn_service(value) in ("secretsmanager", "ssm")


def parse(value: str, environ: Mapping[str, str] = os.environ) -> Reference:
    """The AWS call behind the reference ``value``; SecretError when it names no region or is malformed.

    An ARN's partition, region and account must be shaped as AWS's are
    (``aws-cn``, ``eu-west-1``, twelve digits), so that nothing else can
    reach the host name or a header.
    """
    if value.startswith(SSM_NAME_PREFIX):
        region = environ.get("AWS_REGION", "").strip() or environ.get("AWS_DEFAULT_REGION", "").strip()
        payload = {"Name": value[len(SSM_NAME_PREFIX) :], "WithDecryption": True}
        reference = Reference("ssm", None, region, "GetParameter", payload)
    else:
        _, partition, service, region, account, resource = value.split(":", 5)
        kind = "secret:" if service == "secretsmanager" else "parameter/"
        shaped = _is_partition(partition) and is_region(region) and _is_account(account)
        if not shaped or not resource.startswith(kind):
            raise SecretError(
                f"the secret reference {value!r} is malformed: it must read "
                f"arn:<partition>:{service}:<region>:<account>:{kind}<name>, with a partition, "
                "region and account shaped like AWS's (aws, eu-west-1, 123456789012)"
            )
        if service == "secretsmanager":
            reference = Reference(service, partition, region, "GetSecretValue", {"SecretId": value})
        else:
            payload = {"Name": resource[len("parameter") :], "WithDecryption": True}
            reference = Reference(service, partition, region, "GetParameter", payload)
    if not reference.region:
        raise SecretError(f"could not read the secret {value}: no region (set AWS_REGION)")
    return reference


FETCH_METRICS = (("SecretFetches", "Count"),)
_fetch_count = 0


def take_fetch_count(fields: dict[str, object]) -> None:
    """Set ``fields["SecretFetches"]``: the secret fetches (each an AWS API call) since the last call; restart at 0."""
    global _fetch_count
    fields["SecretFetches"], _fetch_count = _fetch_count, 0


def fetch(value: str, environ: Mapping[str, str] = os.environ) -> str:
    """The current value of the secret ``value`` names, fetched now. Raises :class:`SecretError`."""
    global _fetch_count
    from shared import aws

    _fetch_count += 1

    reference = parse(value, environ)
    api = aws.SECRETS_MANAGER if reference.service == "secretsmanager" else aws.SSM
    try:
        answer = aws.call(api, reference.operation, reference.payload, reference.region, reference.partition, environ)
    except aws.AWSError as exc:
        raise SecretError(f"could not read the secret {value}: {exc.code}") from None
    if reference.service == "secretsmanager":
        secret = answer.get("SecretString")
    else:
        parameter = answer.get("Parameter")
        secret = parameter.get("Value") if isinstance(parameter, dict) else None
    if not secret or not isinstance(secret, str):
        raise SecretError(f"the secret {value} is empty or binary")
    return secret


class _Fetch(threading.Thread):
    """One fetch running in the background; ``value`` or ``error`` once it has ended."""

    def __init__(self, value: str) -> None:
        super().__init__(name="secret-prefetch", daemon=True)
        self.reference = value
        self.value: str | None = None
        self.error: SecretError | None = None

    def run(self) -> None:
        try:
            self.value = fetch(self.reference)
        except SecretError as exc:
            self.error = exc
        except Exception as exc:  # a bug must not vanish with the thread: resolve() raises it as a SecretError
            self.error = SecretError(f"could not read the secret {self.reference}: {type(exc).__name__}")


_values: dict[str, str] = {}
_fetches: dict[str, _Fetch] = {}
_lock = threading.Lock()


def prefetch(value: str) -> None:
    """Start fetching ``value`` in the background when it is a reference not fetched yet; else do nothing."""
    if not is_reference(value):
        return
    from shared import aws  # noqa: F401 -- imported here, not in the thread: imports belong to the main thread

    with _lock:
        if value in _values or value in _fetches:
            return
        _fetches[value] = started = _Fetch(value)
    started.start()


def wait(value: str) -> bool:
    """Wait for a fetch of ``value`` started by :func:`prefetch`; whether a value is there now."""
    with _lock:
        running = _fetches.get(value)
    if running is not None:
        running.join()
    return value in _values or (running is not None and running.value is not None)


def resolve(value: str) -> str:
    """The secret named by ``value``, or ``value`` itself when it is no reference.

    A fetched value is kept for the life of the container. A prefetch still
    running is waited for; one that failed raises its SecretError once, and
    the next call fetches again.
    """
    if not is_reference(value):
        return value
    with _lock:
        if value in _values:
            return _values[value]
        running = _fetches.get(value)
    if running is None:
        secret = fetch(value)
    else:
        running.join()
        with _lock:
            if _fetches.get(value) is running:
                del _fetches[value]
        if running.error is not None:
            raise running.error
        assert running.value is not None  # a fetch that did not fail holds the value
        secret = running.value
    with _lock:
        _values[value] = secret
    return secret


def refresh(value: str) -> str:
    """Fetch ``value`` again now (after a rotation) and keep the new value; SecretError when that fails."""
    secret = fetch(value)
    with _lock:
        _values[value] = secret
    return secret


def forget() -> None:
    """Drop every fetched value (a SnapStart snapshot must hold none); running fetches end unheard."""
    with _lock:
        _values.clear()
        _fetches.clear()
