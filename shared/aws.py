"""A small client for AWS's JSON 1.1 APIs on the standard library: one signed POST, bounded in time.

What it needs from the environment, as botocore reads it:

- credentials: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
  ``AWS_SESSION_TOKEN`` (what Lambda sets), else the container credentials
  endpoint ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` with
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN`` or ``..._TOKEN_FILE`` (what Lambda
  gives SnapStart functions instead);
- the endpoint: ``AWS_ENDPOINT_URL_<SERVICE>`` or ``AWS_ENDPOINT_URL`` (unless
  ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true), else the partition's
  regional endpoint, honouring ``AWS_USE_FIPS_ENDPOINT`` and
  ``AWS_USE_DUALSTACK_ENDPOINT``; plain ``http://`` only on loopback;
- ``AWS_CA_BUNDLE``: the only CAs trusted for HTTPS when set, else the
  system's store.

Each attempt has one 2 s deadline for everything (connect, TLS, headers and
body: :mod:`shared.httpclient`), and a call is tried at most twice (again only
after a network error, a malformed answer, a throttle or a 5xx), so it gives
up within about 4 s; fetching container credentials first is one more such
call. Failures are :class:`AWSError` with AWS's error code and never a
response body. Before any connection, the region must be shaped like an AWS
region, and credentials must hold no control character (each becomes a
header line).
"""

from __future__ import annotations

import json
import os
import ssl
import time
from functools import cache

from shared import httpclient, secrets, sigv4

TYPE_CHECKING = False  # typing is not imported at run time: a cold start does not pay for it
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    Environ = Mapping[str, str]
    T = TypeVar("T")

ATTEMPT_SECONDS = 2.0  # for a whole attempt: connect, send, headers and body, however slowly they trickle in
ATTEMPTS = 2
RETRY_PAUSE_SECONDS = 0.05
MAX_ANSWER_BYTES = 1024 * 1024
USER_AGENT = "bare-api"
# botocore's rule for a region name (a DNS label), in lower case as AWS names every region.
CONTROL_CHARACTERS = frozenset(map(chr, [*range(0x20), 0x7F]))  # a set: a regex costs a cold start to compile
THROTTLING = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
# (partition, region prefix, DNS suffix, dual-stack DNS suffix), from botocore's partitions.json; most specific first.
PARTITIONS = (
    ("aws-cn", "cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    ("aws-us-gov", "us-gov-", "amazonaws.com", "api.aws"),
    ("aws-iso-b", "us-isob-", "sc2s.sgov.gov", "api.aws.scloud"),
    ("aws-iso-f", "us-isof-", "csp.hci.ic.gov", "api.aws.hci.ic.gov"),
    ("aws-iso-e", "eu-isoe-", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"),
    ("aws-iso", "us-iso-", "c2s.ic.gov", "api.aws.ic.gov"),
    ("aws-eusc", "eusc-", "amazonaws.eu", "api.amazonwebservices.eu"),
    ("aws", "", "amazonaws.com", "api.aws"),
)


class AWSError(Exception):
    """A call failed; ``code`` is AWS's error code (or the network error's name), never a message from AWS."""

    def __init__(self, code: str, retryable: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable


class API:
    """One JSON 1.1 API: its signing and endpoint name, its ``AWS_ENDPOINT_URL_*`` suffix, its target prefix.

    (A plain class: a namedtuple costs a cold start a compile to create.)
    """

    __slots__ = ("endpoint_variable", "service", "target_prefix")

    def __init__(self, service: str, endpoint_variable: str, target_prefix: str) -> None:
        self.service = service
        self.endpoint_variable = endpoint_variable
        self.target_prefix = target_prefix


SECRETS_MANAGER = API("secretsmanager", "SECRETS_MANAGER", "secretsmanager")
SSM = API("ssm", "SSM", "AmazonSSM")


def _is_true(environ: Environ, name: str) -> bool:
    return environ.get(name, "").strip().lower() == "true"


def dns_suffix(region: str, partition: str | None = None, dual_stack: bool = False) -> str:
    """The DNS suffix of ``partition`` (an ARN's), or of the partition ``region`` belongs to."""
    for name, prefix, suffix, dual_stack_suffix in PARTITIONS:
        if name == partition or (partition is None and region.startswith(prefix)):
            return dual_stack_suffix if dual_stack else suffix
    raise AWSError("UnknownPartition")


def endpoint(api: API, region: str, partition: str | None = None, environ: Environ = os.environ) -> str:
    """The base URL of ``api`` in ``region``: a configured endpoint, else the regional one."""
    if not _is_true(environ, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        configured = environ.get(f"AWS_ENDPOINT_URL_{api.endpoint_variable}", "") or environ.get("AWS_ENDPOINT_URL", "")
        if configured.strip():
            return configured.strip().rstrip("/")
    host = f"{api.service}-fips" if _is_true(environ, "AWS_USE_FIPS_ENDPOINT") else api.service
    suffix = dns_suffix(region, partition, dual_stack=_is_true(environ, "AWS_USE_DUALSTACK_ENDPOINT"))
    return f"https://{host}.{region}.{suffix}"


@cache
def tls_context(ca_bundle: str) -> ssl.SSLContext:
    """Certificate-verifying TLS, with the CAs of ``ca_bundle`` alone, or the system's when it is ""."""
    return ssl.create_default_context(cafile=ca_bundle or None)


def _exchange(
    url: str, method: str, headers: dict[str, str], body: bytes | None, environ: Environ
) -> tuple[int, dict[str, str], bytes]:
    """One request, bounded by :data:`ATTEMPT_SECONDS` as a whole: (status, headers, body)."""
    tls = tls_context(environ.get("AWS_CA_BUNDLE", "").strip()) if url.startswith("https:") else None
    try:
        return httpclient.exchange(url, method, headers, body or b"", ATTEMPT_SECONDS, MAX_ANSWER_BYTES, tls)
    except httpclient.ExchangeError as exc:  # only an endpoint it must not use is worth no second attempt
        raise AWSError(exc.code, retryable=exc.code != "InvalidEndpoint") from None


def _document(answer: bytes) -> dict[str, Any]:
    """The JSON object ``answer`` holds; a retryable MalformedAnswer when it holds none (however it fails)."""
    try:
        document = json.loads(answer)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise AWSError("MalformedAnswer", retryable=True) from None
    if not isinstance(document, dict):
        raise AWSError("MalformedAnswer", retryable=True)
    return document


def _with_retry(attempt: Callable[[], T]) -> T:
    for number in range(ATTEMPTS):
        try:
            return attempt()
        except AWSError as exc:
            if not exc.retryable or number + 1 == ATTEMPTS:
                raise
            time.sleep(RETRY_PAUSE_SECONDS)
    raise AssertionError("unreachable")


def _container_token(environ: Environ) -> str:
    token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "").strip()
    token_file = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "").strip()
    if token_file:  # takes precedence, as in botocore
        try:
            with open(token_file) as file:
                token = file.read().strip()
        except (OSError, UnicodeError):
            raise AWSError("CredentialsTokenFileUnreadable") from None
    if not CONTROL_CHARACTERS.isdisjoint(token):  # a CR or LF would start a header line of its own
        raise AWSError("InvalidContainerAuthorizationToken")
    return token


def _container_credentials(url: str, environ: Environ) -> sigv4.Credentials:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    token = _container_token(environ)
    if token:
        headers["Authorization"] = token

    def attempt() -> tuple[int, dict[str, Any]]:
        status, _, answer = _exchange(url, "GET", headers, None, environ)
        return status, _document(answer) if status == 200 else {}

    status, document = _with_retry(attempt)
    access_key, secret_key = document.get("AccessKeyId"), document.get("SecretAccessKey")
    session_token = document.get("Token") or ""
    strings = isinstance(access_key, str) and isinstance(secret_key, str) and isinstance(session_token, str)
    if not (strings and access_key and secret_key):
        raise AWSError(f"CredentialsEndpointAnswered{status}")
    keys = sigv4.Credentials(access_key, secret_key, session_token)
    if not all(CONTROL_CHARACTERS.isdisjoint(part) for part in keys):
        raise AWSError("InvalidContainerCredentials")
    return keys


def credentials(environ: Environ = os.environ) -> sigv4.Credentials:
    """The function's credentials: the environment's keys, else the container credentials endpoint."""
    access_key = environ.get("AWS_ACCESS_KEY_ID", "").strip()
    if access_key:
        secret_key = environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
        if not secret_key:
            raise AWSError("PartialCredentials")
        keys = sigv4.Credentials(access_key, secret_key, environ.get("AWS_SESSION_TOKEN", "").strip())
        if not all(CONTROL_CHARACTERS.isdisjoint(part) for part in keys):
            raise AWSError("InvalidCredentials")
        return keys
    full_uri = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "").strip()
    if full_uri:
        return _container_credentials(full_uri, environ)
    raise AWSError("NoCredentials")


def error_code(status: int, headers: dict[str, str], answer: bytes) -> str:
    """AWS's error code: ``x-amzn-ErrorType``, the JSON body's ``__type``, or an XML body's ``<Code>``.

    JSON APIs answer JSON; the XML form is how AWS's query APIs (and moto, for
    a refused signature) write errors.
    """
    kind = headers.get("x-amzn-errortype", "")
    if not kind:
        try:
            document = _document(answer)
            kind = document.get("__type") or document.get("code") or ""
        except AWSError:
            kind = answer.decode("utf-8", "replace").partition("<Code>")[2].partition("</Code>")[0]
    code = str(kind).split(":")[0].rpartition("#")[2].strip()[:100]
    return code if code.isascii() and code.isprintable() and code else f"HTTP{status}"


def call(
    api: API,
    operation: str,
    payload: dict[str, Any],
    region: str,
    partition: str | None = None,
    environ: Environ = os.environ,
) -> dict[str, Any]:
    """The JSON answer of ``operation`` (such as ``GetSecretValue``); AWSError when it fails."""
    if not region:
        raise AWSError("NoRegion")
    if not secrets.is_region(region):  # it becomes part of the host name and of a signed header
        raise AWSError("InvalidRegion")
    url = endpoint(api, region, partition, environ)
    keys = credentials(environ)
    body = json.dumps(payload).encode()
    try:
        parts = httpclient.checked_url(url)
    except httpclient.ExchangeError as exc:
        raise AWSError(exc.code) from None

    def attempt() -> dict[str, Any]:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{api.target_prefix}.{operation}"}
        signed = sigv4.sign("POST", parts.netloc, parts.path or "/", headers, body, keys, region, api.service)
        del signed["Host"]  # the transport writes it
        status, answer_headers, answer = _exchange(url, "POST", {**signed, "User-Agent": USER_AGENT}, body, environ)
        if status != 200:
            code = error_code(status, answer_headers, answer)
            raise AWSError(code, retryable=status >= 500 or code in THROTTLING)
        if len(answer) > MAX_ANSWER_BYTES:
            raise AWSError("AnswerTooLarge")
        return _document(answer)

    return _with_retry(attempt)
