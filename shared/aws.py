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

Every request has 1 s to connect and 1 s per read, and is tried at most twice
(again only after a network error, a throttle or a 5xx), so a call gives up
within about 4 s. Failures are :class:`AWSError` with AWS's error code and
never a response body. HTTP/1.1 is spoken directly on the socket, one request
per connection: ``http.client`` would cost a cold start more to import (see
``make bench``) than this whole module.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import time
from collections import namedtuple
from functools import cache
from urllib.parse import urlsplit

from shared import sigv4

TIMEOUT_SECONDS = 1.0  # to connect, and for each read
ATTEMPT_SECONDS = 2.0  # for a whole answer, however slowly it trickles in
ATTEMPTS = 2
RETRY_PAUSE_SECONDS = 0.05
MAX_ANSWER_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
CHUNK_BYTES = 65536
USER_AGENT = "bare-api"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
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


class API(namedtuple("API", "service endpoint_variable target_prefix")):
    """One JSON 1.1 API: its signing and endpoint name, its ``AWS_ENDPOINT_URL_*`` suffix, its target prefix."""

    __slots__ = ()


SECRETS_MANAGER = API("secretsmanager", "SECRETS_MANAGER", "secretsmanager")
SSM = API("ssm", "SSM", "AmazonSSM")


def _is_true(environ, name: str) -> bool:
    return environ.get(name, "").strip().lower() == "true"


def dns_suffix(region: str, partition: str | None = None, dual_stack: bool = False) -> str:
    """The DNS suffix of ``partition`` (an ARN's), or of the partition ``region`` belongs to."""
    for name, prefix, suffix, dual_stack_suffix in PARTITIONS:
        if name == partition or (partition is None and region.startswith(prefix)):
            return dual_stack_suffix if dual_stack else suffix
    raise AWSError("UnknownPartition")


def endpoint(api: API, region: str, partition: str | None = None, environ=os.environ) -> str:
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


def _split(url: str):
    """``url``'s parts; AWSError for a URL it must not use."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return parts
    raise AWSError("InvalidEndpoint")  # plain http beyond loopback would put the secret on the wire


def _exchange(url: str, method: str, headers: dict[str, str], body: bytes | None, environ) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 request on a new connection, closed after the answer: (status, headers, body)."""
    parts = _split(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    lines = [f"{method} {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close",
             f"Content-Length: {len(body or b'')}"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "host"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
    try:
        with socket.create_connection((parts.hostname, port), timeout=TIMEOUT_SECONDS) as raw:
            if parts.scheme == "https":
                context = tls_context(environ.get("AWS_CA_BUNDLE", "").strip())
                with context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
                    return _answer(tls, request)
            return _answer(raw, request)
    except OSError as exc:  # refused, unreachable, timed out, or a certificate that does not verify
        raise AWSError(type(exc).__name__, retryable=True) from None


def _answer(connection: socket.socket, request: bytes) -> tuple[int, dict, bytes]:
    connection.sendall(request)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(CHUNK_BYTES)
        if not chunk or len(received) > MAX_HEADER_BYTES:
            raise AWSError("MalformedAnswer", retryable=True)
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(status_line.split(" ", 2)[1])
    except (IndexError, ValueError):
        raise AWSError("MalformedAnswer", retryable=True) from None
    answer_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    declared = answer_headers.get("content-length", "")
    if declared and not declared.isdigit():
        raise AWSError("MalformedAnswer", retryable=True)
    length = int(declared) if declared else -1
    deadline = time.monotonic() + ATTEMPT_SECONDS
    while (length < 0 or len(rest) < length) and len(rest) <= MAX_ANSWER_BYTES and (
            chunk := connection.recv(CHUNK_BYTES)):
        rest += chunk  # without a Content-Length, the answer ends when the server closes (Connection: close)
        if time.monotonic() > deadline:
            raise AWSError("TimeoutError", retryable=True)
    if answer_headers.get("transfer-encoding", "").lower() == "chunked":
        rest = _unchunked(rest)
    return status, answer_headers, rest[:length] if length >= 0 else rest


def _unchunked(data: bytes) -> bytes:
    """The body of a chunked transfer encoding."""
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            raise AWSError("MalformedAnswer", retryable=True) from None
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2:]


def _with_retry(attempt):
    for number in range(ATTEMPTS):
        try:
            return attempt()
        except AWSError as exc:
            if not exc.retryable or number + 1 == ATTEMPTS:
                raise
            time.sleep(RETRY_PAUSE_SECONDS)
    raise AssertionError("unreachable")


def _container_credentials(url: str, environ) -> sigv4.Credentials:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "").strip()
    token_file = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "").strip()
    if token_file:  # takes precedence, as in botocore
        try:
            with open(token_file) as file:
                token = file.read().strip()
        except OSError:
            raise AWSError("CredentialsTokenFileUnreadable") from None
    if token:
        headers["Authorization"] = token
    status, _, answer = _with_retry(lambda: _exchange(url, "GET", headers, None, environ))
    try:
        document = json.loads(answer) if status == 200 else {}
        return sigv4.Credentials(document["AccessKeyId"], document["SecretAccessKey"], document.get("Token") or "")
    except (ValueError, KeyError, TypeError):
        raise AWSError(f"CredentialsEndpointAnswered{status}") from None


def credentials(environ=os.environ) -> sigv4.Credentials:
    """The function's credentials: the environment's keys, else the container credentials endpoint."""
    access_key = environ.get("AWS_ACCESS_KEY_ID", "").strip()
    if access_key:
        secret_key = environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
        if not secret_key:
            raise AWSError("PartialCredentials")
        return sigv4.Credentials(access_key, secret_key, environ.get("AWS_SESSION_TOKEN", "").strip())
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
            document = json.loads(answer)
            kind = document.get("__type") or document.get("code") or ""
        except (ValueError, AttributeError):
            kind = answer.decode("utf-8", "replace").partition("<Code>")[2].partition("</Code>")[0]
    return str(kind).split(":")[0].rpartition("#")[2].strip()[:100] or f"HTTP{status}"


def call(api: API, operation: str, payload: dict, region: str, partition: str | None = None,
         environ=os.environ) -> dict:
    """The JSON answer of ``operation`` (such as ``GetSecretValue``); AWSError when it fails."""
    if not region:
        raise AWSError("NoRegion")
    url = endpoint(api, region, partition, environ)
    keys = credentials(environ)
    body = json.dumps(payload).encode()
    parts = _split(url)

    def attempt() -> dict:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{api.target_prefix}.{operation}"}
        signed = sigv4.sign("POST", parts.netloc, parts.path or "/", headers, body, keys, region, api.service)
        status, answer_headers, answer = _exchange(url, "POST", {**signed, "User-Agent": USER_AGENT}, body, environ)
        if status != 200:
            code = error_code(status, answer_headers, answer)
            raise AWSError(code, retryable=status >= 500 or code in THROTTLING)
        if len(answer) > MAX_ANSWER_BYTES:
            raise AWSError("AnswerTooLarge")
        try:
            return json.loads(answer)
        except ValueError:
            raise AWSError("MalformedAnswer") from None

    return _with_retry(attempt)
