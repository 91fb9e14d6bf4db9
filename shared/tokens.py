"""Verify bearer tokens: the one verifier behind the authorizer and ``LOCAL_AUTH``.

Keys come from exactly one place:

- ``JWT_SECRET``: an HMAC secret (HS256 by default). Outside ``STAGE=local`` it
  must be a Secrets Manager or SSM reference (see :mod:`shared.secrets`),
  resolved once per container.
- ``JWT_JWKS_URL``: an identity provider's JSON Web Key Set (RS256 by default;
  Cognito, Auth0, Okta...). Keys are fetched on first use, cached, and fetched
  again for an unknown ``kid`` at most once per ``JWT_JWKS_REFRESH_SECONDS``.
- neither, with ``STAGE=local``: the local development secret, with a local
  issuer and audience, which ``make token`` signs with. Any other stage refuses it.

Every variable is read once, by the first call of :func:`verifier`; a bad value
raises :class:`shared.config.ConfigError` naming it. The verifier reads only
``STAGE`` and the ``JWT_*`` variables, so a setting it does not use (a database
timeout, say) cannot stop the authorizer.

Time claims are checked as RFC 7519 NumericDates, JSON numbers between the
years 1970 and 9999, before PyJWT compares them: PyJWT alone would also take
``"1700000000"`` or ``true``, and fail on ``10**400``.
"""

from __future__ import annotations

import json
import math
import os
import time
from functools import cache
from operator import itemgetter
from urllib.parse import urlsplit

import jwt

from shared import config, secrets
from shared.config import ConfigError, env_int, env_text
from shared.principal import sub_problem

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from jwt.types import Options

    from shared.config import Environ

    Claims = dict[str, Any]

LOCAL_SECRET = "bare-api-local-development-secret-for-make-token-and-tests-only!!"
LOCAL_ISSUER = "bare-api-local"
LOCAL_AUDIENCE = "bare-api-local"
HMAC_MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
JWKS_MAX_BYTES = 256 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# The characters of a compact JWS: base64url and the dots between its three parts. (Deleted with bytes.translate
# to check a token: as fast as a pattern, which would cost a cold start to compile.)
COMPACT_JWS_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
TIME_CLAIMS = ("exp", "nbf", "iat")
LATEST_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z


class InvalidToken(Exception):
    """The bearer token is missing, malformed or fails verification.

    The message says why in words safe to show the caller: never a key, never the token.
    """


class KeysUnavailable(RuntimeError):
    """The identity provider's keys could not be fetched: a fault of the deployment, not of the caller."""


# The checker reads the fields as a NamedTuple's; at run time a tuple with a property per field, one class that
# costs a cold start no compile, unlike a namedtuple.
if TYPE_CHECKING:
    from typing import NamedTuple

    class TokenSettings(NamedTuple):
        """The verifier's configuration, built by :func:`load`.

        ``secret`` is the JWT_SECRET setting as given (a value or a reference) or
        the local secret, and "" with a JWKS; ``algorithms`` is a tuple of names;
        ``max_lifetime_seconds`` is 0 when token lifetimes are not limited.
        """

        stage: str
        secret: str
        jwks_url: str
        algorithms: tuple[str, ...]
        issuer: str
        audience: str
        leeway_seconds: int
        max_token_bytes: int
        jwks_timeout_ms: int
        jwks_refresh_seconds: int
        jwks_cache_seconds: int
        max_lifetime_seconds: int
else:

    class TokenSettings(tuple):
        """The verifier's configuration (see the checker's declaration above): a tuple with a name for each part,
        as a namedtuple has them: built by keyword, read by name, ``_asdict()``."""

        __slots__ = ()
        _fields = (
            "stage",
            "secret",
            "jwks_url",
            "algorithms",
            "issuer",
            "audience",
            "leeway_seconds",
            "max_token_bytes",
            "jwks_timeout_ms",
            "jwks_refresh_seconds",
            "jwks_cache_seconds",
            "max_lifetime_seconds",
        )

        def __new__(
            cls,
            stage,
            secret,
            jwks_url,
            algorithms,
            issuer,
            audience,
            leeway_seconds,
            max_token_bytes,
            jwks_timeout_ms,
            jwks_refresh_seconds,
            jwks_cache_seconds,
            max_lifetime_seconds,
        ):
            return tuple.__new__(
                cls,
                (
                    stage,
                    secret,
                    jwks_url,
                    algorithms,
                    issuer,
                    audience,
                    leeway_seconds,
                    max_token_bytes,
                    jwks_timeout_ms,
                    jwks_refresh_seconds,
                    jwks_cache_seconds,
                    max_lifetime_seconds,
                ),
            )

        def __repr__(self):
            parts = ", ".join(f"{name}={value!r}" for name, value in self._asdict().items())
            return f"TokenSettings({parts})"

        def _asdict(self):
            return dict(zip(self._fields, self, strict=True))

        stage = property(itemgetter(0))
        secret = property(itemgetter(1))
        jwks_url = property(itemgetter(2))
        algorithms = property(itemgetter(3))
        issuer = property(itemgetter(4))
        audience = property(itemgetter(5))
        leeway_seconds = property(itemgetter(6))
        max_token_bytes = property(itemgetter(7))
        jwks_timeout_ms = property(itemgetter(8))
        jwks_refresh_seconds = property(itemgetter(9))
        jwks_cache_seconds = property(itemgetter(10))
        max_lifetime_seconds = property(itemgetter(11))


def _algorithms(environ: Environ, uses_jwks: bool) -> tuple[str, ...]:
    allowed = ASYMMETRIC_ALGORITHMS if uses_jwks else tuple(HMAC_MIN_SECRET_BYTES)
    raw = environ.get("JWT_ALGORITHMS", "").strip() or allowed[0]
    algorithms = tuple(name.strip() for name in raw.split(",") if name.strip())
    for name in algorithms:
        if name not in allowed:
            source = "JWT_JWKS_URL" if uses_jwks else "JWT_SECRET"
            raise ConfigError(f"JWT_ALGORITHMS may hold only {', '.join(allowed)} with {source}, got {name!r}")
    return algorithms


def _check_jwks_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is no number
    except ValueError:
        parts = None
    if (
        parts
        and "@" not in parts.netloc
        and (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS))
    ):
        return
    raise ConfigError(f"JWT_JWKS_URL must be an https:// URL (http:// only on loopback) without userinfo, got {url!r}")


def load(environ: Environ, stage: str) -> TokenSettings:
    """Build :class:`TokenSettings` from ``environ`` for ``stage``; raise ConfigError on bad values.

    Secret references are not resolved here (see :func:`signing_secret`).
    """
    local = stage == "local"
    secret = environ.get("JWT_SECRET", "").strip()  # a secret: any text
    jwks_url = env_text(environ, "JWT_JWKS_URL", "")
    issuer = env_text(environ, "JWT_ISSUER", "")
    audience = env_text(environ, "JWT_AUDIENCE", "")
    if secret and jwks_url:
        raise ConfigError("set JWT_SECRET or JWT_JWKS_URL, not both")
    if jwks_url:
        _check_jwks_url(jwks_url)
    elif not secret and not local:
        raise ConfigError(f"JWT_SECRET or JWT_JWKS_URL must be set when STAGE is {stage!r}")
    elif not secret:
        secret, issuer, audience = LOCAL_SECRET, issuer or LOCAL_ISSUER, audience or LOCAL_AUDIENCE
    elif not local and not secrets.is_reference(secret):
        raise ConfigError(f"JWT_SECRET must be a Secrets Manager or SSM reference when STAGE is {stage!r}")
    if not issuer and not local:
        raise ConfigError(f"JWT_ISSUER must be set when STAGE is {stage!r}")
    return TokenSettings(
        stage=stage,
        secret=secret,
        jwks_url=jwks_url,
        algorithms=_algorithms(environ, uses_jwks=bool(jwks_url)),
        issuer=issuer,
        audience=audience,
        leeway_seconds=env_int(environ, "JWT_LEEWAY_SECONDS", 30, 0, 300),
        max_token_bytes=env_int(environ, "JWT_MAX_TOKEN_BYTES", 8192, 512, 65536),
        jwks_timeout_ms=env_int(environ, "JWT_JWKS_TIMEOUT_MS", 2000, 50, 10000),
        jwks_refresh_seconds=env_int(environ, "JWT_JWKS_REFRESH_SECONDS", 30, 0, 3600),
        jwks_cache_seconds=env_int(environ, "JWT_JWKS_CACHE_SECONDS", 3600, 60, 86400),
        max_lifetime_seconds=config.jwt_max_lifetime_seconds(environ),  # the functions read it the same way
    )


def stage_of(environ: Environ) -> str:
    """The deployment stage, read by :func:`shared.config.stage` without reading any other setting."""
    return config.stage(environ)


def signing_secret(settings: TokenSettings) -> str:
    """The HMAC secret itself, fetched when ``JWT_SECRET`` is a reference; ConfigError when unfit."""
    secret = secrets.resolve(settings.secret)
    if secret == LOCAL_SECRET and settings.stage != "local":
        raise ConfigError(f"the local development secret is refused when STAGE is {settings.stage!r}")
    needed = max(HMAC_MIN_SECRET_BYTES[name] for name in settings.algorithms)
    if len(secret.encode()) < needed:
        raise ConfigError(f"JWT_SECRET must be at least {needed} bytes long for {', '.join(settings.algorithms)}")
    return secret


class JWKSet:
    """An identity provider's signing keys by ``kid``, fetched over HTTPS and cached.

    A fetch happens for an unknown ``kid`` or once the keys are older than
    ``cache_seconds``, but never twice within ``refresh_seconds``, so tokens
    with made-up ``kid`` values cannot turn into a stream of requests. Each
    fetch (connect, headers and body) gives up once ``timeout_seconds`` have
    passed, and follows no redirect. An entry that cannot be loaded as a key
    is skipped, and logged the first time it is seen.
    """

    def __init__(
        self,
        url: str,
        timeout_seconds: float,
        refresh_seconds: float,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout_seconds = timeout_seconds
        self.refresh_seconds = refresh_seconds
        self.cache_seconds = cache_seconds
        self.clock = clock
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at = -math.inf
        self.attempted_at = -math.inf
        self.reported: set[str] = set()  # the kids of skipped entries already logged

    def key_for(self, kid: str) -> jwt.PyJWK:
        """The key named ``kid``; InvalidToken when the provider has none, KeysUnavailable when unreachable."""
        now = self.clock()
        key = self.keys.get(kid)
        if key is not None and now - self.fetched_at < self.cache_seconds:
            return key
        if now - self.attempted_at >= self.refresh_seconds:
            self.attempted_at = now
            try:
                self.keys, self.fetched_at = self.fetch(), now
            except KeysUnavailable:
                if key is None:
                    raise
                return key  # a stale key beats refusing every caller while the provider is down
            key = self.keys.get(kid)
        if key is not None:
            return key
        if not self.keys:  # no fetch has succeeded yet
            raise KeysUnavailable(f"no signing keys yet: the last fetch from {self.url} failed")
        raise InvalidToken("the token's signing key is unknown")

    def fetch(self) -> dict[str, jwt.PyJWK]:
        """The usable signing keys the provider publishes now; raise KeysUnavailable on any failure."""
        from shared import httpclient  # only with a JWKS, and only when its keys are needed

        headers = {"Accept": "application/json", "User-Agent": "bare-api-authorizer"}
        try:
            status, _, body = httpclient.exchange(self.url, "GET", headers, b"", self.timeout_seconds, JWKS_MAX_BYTES)
        except httpclient.ExchangeError as exc:
            raise KeysUnavailable(f"could not fetch the JWKS from {self.url}: {exc.code}") from None
        if status != 200:
            raise KeysUnavailable(f"the JWKS at {self.url} answered {status} (redirects are not followed)")
        if len(body) > JWKS_MAX_BYTES:
            raise KeysUnavailable(f"the JWKS at {self.url} is larger than {JWKS_MAX_BYTES} bytes")
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise KeysUnavailable(f"the JWKS at {self.url} is not JSON") from None
        keys, skipped = _signing_keys(document)
        self._report(skipped)
        if not keys:
            raise KeysUnavailable(f"the JWKS at {self.url} holds no usable RSA or EC signing key with a kid")
        return keys

    def _report(self, skipped: dict[str, str]) -> None:
        unreported = {kid: error for kid, error in skipped.items() if kid not in self.reported}
        if unreported:
            from shared import observability

            self.reported.update(unreported)
            observability.log(
                "WARNING",
                "JWKS entries skipped: they cannot be loaded as signing keys",
                url=self.url,
                kids=list(unreported),
                errors=list(unreported.values()),
            )


def _signing_keys(document: object) -> tuple[dict[str, jwt.PyJWK], dict[str, str]]:
    """The loadable signing keys by kid, and the kids of the entries that failed to load with their error's name."""
    entries = document.get("keys") if isinstance(document, dict) else None
    keys: dict[str, jwt.PyJWK] = {}
    skipped: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else ():
        usable = (
            isinstance(entry, dict)
            and isinstance(entry.get("kid"), str)
            and entry.get("kty") in ("RSA", "EC")  # public keys only: an "oct" key here would be a shared secret
            and entry.get("use", "sig") == "sig"
        )
        if not usable:
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry)  # binds the key to one algorithm: its "alg", or its type's default
        except Exception as exc:  # PyJWT raises many kinds for odd entries (NotImplementedError, TypeError...)
            skipped[entry["kid"]] = type(exc).__name__
    return keys, skipped


def _numeric_date_problem(value: object) -> str | None:
    """Why ``value`` is no RFC 7519 NumericDate this API accepts, or None: a JSON number from 1970 to 9999.

    Not a string, boolean, null, array or object; not NaN or Infinity; no
    number too large for a date (``10**400`` would overflow PyJWT's checks).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        return "must be a number (RFC 7519 NumericDate)"
    if not 0 <= value <= LATEST_NUMERIC_DATE:
        return "must be a date between the years 1970 and 9999"
    return None


class _StrictJWT(jwt.PyJWT):
    """PyJWT, refusing time claims that are not numbers before its own checks convert them with ``int()``.

    ``_decode_payload`` is PyJWT's documented hook for subclasses; it runs after
    the signature is verified and before the claims are validated.
    """

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        payload = super()._decode_payload(decoded)
        for claim in TIME_CLAIMS:
            if claim in payload:
                value = payload[claim]
                if type(value) is int and 0 <= value <= LATEST_NUMERIC_DATE:
                    continue  # the usual NumericDate, checked inline: every token has two or three
                problem = _numeric_date_problem(value)
                if problem is not None:
                    raise InvalidToken(f"the token's {claim} claim {problem}")
        return payload


REASONS = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidIssuerError, "the token's issuer is not accepted"),
    (jwt.InvalidAudienceError, "the token's audience is not accepted"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted for this key"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
)


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token has no {exc.claim} claim"
    for kind, reason in REASONS:
        if isinstance(exc, kind):
            return reason
    return "the token is malformed"


class Verifier:
    """Checks bearer tokens against one :class:`TokenSettings`; keys and options are prepared once."""

    def __init__(self, settings: TokenSettings) -> None:
        self.settings = settings
        self.decoder = _StrictJWT()
        self.jwks: JWKSet | None = None
        self.secret = ""
        if settings.jwks_url:
            self.jwks = JWKSet(
                settings.jwks_url,
                settings.jwks_timeout_ms / 1000,
                settings.jwks_refresh_seconds,
                settings.jwks_cache_seconds,
            )
        else:
            self.secret = signing_secret(settings)
        required = ["exp", "iat", "sub"]
        if settings.issuer:
            required.append("iss")
        if settings.audience:
            required.append("aud")
        self.max_token_bytes = settings.max_token_bytes  # read on every token: an attribute, not a tuple's part
        self.max_lifetime_seconds = settings.max_lifetime_seconds
        self.leeway_seconds = settings.leeway_seconds
        self.max_header_chars = settings.max_token_bytes + len("Bearer ") + 2
        # PyJWT's decode arguments, prepared once.
        self.algorithms = list(settings.algorithms)
        self.issuer = settings.issuer or None
        self.audience = settings.audience or None
        self.options: Options = {"require": required, "verify_aud": bool(settings.audience)}

    def verify(self, authorization: object) -> Claims:
        """The claims of the token in an ``Authorization`` header value; InvalidToken when refused."""
        token = self._token_in(authorization)
        key = self.secret if self.jwks is None else self._key_for(self.jwks, token)
        try:
            claims = self.decoder.decode(
                token,
                key,
                algorithms=self.algorithms,
                options=self.options,
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_seconds,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(_reason(exc)) from None
        problem = sub_problem(claims["sub"])
        if problem is not None:
            raise InvalidToken(f"the token's sub claim {problem}")
        limit = self.max_lifetime_seconds
        if limit and claims["exp"] - claims["iat"] > limit:
            raise InvalidToken(f"the token lives longer (exp - iat) than the {limit} s this API accepts")
        if "scope" not in claims and "scp" in claims:  # Okta and Entra ID name the scopes "scp"
            claims["scope"] = claims["scp"]
        return claims

    def _token_in(self, authorization: object) -> str:
        if not isinstance(authorization, str) or not authorization or authorization.isspace():
            raise InvalidToken("no bearer token was sent")
        if len(authorization) > self.max_header_chars:
            raise InvalidToken("the token is too large")
        parts = authorization.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise InvalidToken("send exactly one token as 'Authorization: Bearer <token>'")
        token = parts[1]
        if len(token) > self.max_token_bytes:
            raise InvalidToken("the token is too large")
        pieces = token.split(".")
        if (
            len(pieces) != 3
            or not all(pieces)
            or not token.isascii()
            or token.encode().translate(None, COMPACT_JWS_BYTES)
        ):
            raise InvalidToken("the token is not a signed JWT (three base64url parts)")
        return token

    def _key_for(self, jwks: JWKSet, token: str) -> jwt.PyJWK:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise InvalidToken("the token is malformed") from None
        if not kid or not isinstance(kid, str):
            raise InvalidToken("the token names no signing key (kid)")
        return jwks.key_for(kid)


@cache
def verifier() -> Verifier:
    """The process-wide verifier, configured from the environment on first call."""
    return Verifier(load(os.environ, stage_of(os.environ)))


def verify_authorization(header_value: object) -> Claims:
    """The verified claims of ``Authorization: Bearer <token>``.

    Raises :class:`InvalidToken` when the caller's token is refused, and
    ConfigError, SecretError or :class:`KeysUnavailable` when the fault is
    the deployment's.
    """
    return verifier().verify(header_value)
