"""AWS Signature Version 4 for one HTTP request: the headers that authenticate it.

Only what a JSON API call needs: the request's own headers are all signed,
with ``host``, ``x-amz-date`` and, for temporary credentials,
``x-amz-security-token``; the payload is hashed (no unsigned payloads, no
query-string signing). The steps are those of AWS's "Create a signed AWS API
request" guide; tests check every byte against botocore's own signer.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from operator import itemgetter
from urllib.parse import quote

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it

ALGORITHM = "AWS4-HMAC-SHA256"


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


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
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
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = signing_key(credentials.secret_key, stamp[:8], region, service)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return {**signed, "Authorization": authorization}
