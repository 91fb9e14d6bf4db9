"""AWS Signature Version 4 for one HTTP request: the headers that authenticate it.

Only what a JSON API call needs: the request's own headers are all signed,
with ``host``, ``x-amz-date`` and, for temporary credentials,
``x-amz-security-token``; the payload is hashed (no unsigned payloads, no
query-string signing). The steps are those of AWS's "Create a signed AWS API
request" guide; tests check every byte against botocore's own signer.
"""

from __future__ import annotations

import time
from hashlib import sha256
from operator import itemgetter
from urllib.parse import quote

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it

ALGORITHM = "AWS4-HMAC-SHA256"
BLOCK_BYTES = 64  # SHA-256's block size
INNER_PAD = int.from_bytes(b"\x36" * BLOCK_BYTES)  # RFC 2104's ipad and opad, as numbers to XOR a key with
OUTER_PAD = int.from_bytes(b"\x5c" * BLOCK_BYTES)


# The checker reads the fields as a NamedTuple's; at run time a tuple with a property per field, one class that
# costs a cold start no compile, unlike a namedtuple.
if TYPE_CHECKING:
    from typing import NamedTuple

    class Credentials(NamedTuple):
        """An access key, its secret and, for temporary credentials, the session token ("" when none)."""

        access_key: str
        secret_key: str
        token: str
else:

    class Credentials(tuple):
        """An access key, its secret and, for temporary credentials, the session token ("" when none):
        ``(access_key, secret_key, token)`` with a name for each part, as a namedtuple has them."""

        __slots__ = ()

        def __new__(cls, access_key, secret_key, token):
            return tuple.__new__(cls, (access_key, secret_key, token))

        def __repr__(self):  # never the secret key or the token, even in a traceback
            return f"Credentials(access_key={self.access_key!r}, ...)"

        access_key = property(itemgetter(0))
        secret_key = property(itemgetter(1))
        token = property(itemgetter(2))


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` (RFC 2104), the same bytes as ``hmac.digest(key, message, "sha256")``.

    Written out with :func:`hashlib.sha256` because a function that has not
    imported :mod:`hmac` yet would pay more for that import than the signing
    costs: each pad is one XOR of the key and the pad taken as numbers.
    """
    if len(key) > BLOCK_BYTES:
        key = sha256(key).digest()
    padded = int.from_bytes(key.ljust(BLOCK_BYTES, b"\0"))
    inner = sha256((padded ^ INNER_PAD).to_bytes(BLOCK_BYTES) + message).digest()
    return sha256((padded ^ OUTER_PAD).to_bytes(BLOCK_BYTES) + inner).digest()


def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    key = hmac_sha256(f"AWS4{secret_key}".encode(), day.encode())
    for part in (region, service, "aws4_request"):
        key = hmac_sha256(key, part.encode())
    return key


def sign(
    method: str,
    host: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    now: float | None = None,
) -> dict[str, str]:
    """``headers`` plus ``X-Amz-Date``, ``X-Amz-Security-Token`` (if any) and ``Authorization``.

    ``host`` is the Host header's value (with the port when it is not the
    scheme's default); ``now`` is a Unix time, the current time by default.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    signed = {**headers, "Host": host, "X-Amz-Date": stamp}
    if credentials.token:
        signed["X-Amz-Security-Token"] = credentials.token
    canonical = {name.lower(): " ".join(str(value).split()) for name, value in signed.items()}
    names = sorted(canonical)
    canonical_request = "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/~"),
            "",  # no query string
            "".join(f"{name}:{canonical[name]}\n" for name in names),
            ";".join(names),
            sha256(body).hexdigest(),
        ]
    )
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, stamp, scope, sha256(canonical_request.encode()).hexdigest()])
    key = signing_key(credentials.secret_key, stamp[:8], region, service)
    signature = hmac_sha256(key, string_to_sign.encode()).hex()
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return {**signed, "Authorization": authorization}
