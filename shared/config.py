"""Settings read once from environment variables.

Every variable the functions read is listed here, with its default; README's
"Configuration" table documents the same names. Bad values fail at the first
call to :func:`settings` with a :class:`ConfigError` that names the variable.
"""

from __future__ import annotations

import os
from functools import cache

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from collections.abc import Mapping

    Environ = Mapping[str, str]


class ConfigError(ValueError):
    """An environment variable is missing or has an invalid value."""


MONGODB_URI_PREFIXES = ("mongodb://", "mongodb+srv://", "arn:", "ssm:")  # the last two: secret references
MAX_LIFETIME_LIMIT_SECONDS = 30 * 24 * 3600


class Settings:
    """The functions' configuration, read-only; built by :func:`load`.

    A plain class with slots rather than a dataclass or ``typing.NamedTuple``: generating a
    dataclass's methods, or importing ``typing``, costs a measurable share of a cold start.
    """

    __slots__ = (
        "app_name",
        "cors_allow_credentials",
        "cors_allow_origins",
        "jwt_max_lifetime_seconds",
        "local_auth",
        "log_level",
        "max_body_bytes",
        "mongodb_database",
        "mongodb_max_idle_time_ms",
        "mongodb_max_pool_size",
        "mongodb_timeout_ms",
        "mongodb_uri",
        "stage",
        "users_cache_ttl_seconds",
    )
    app_name: str
    stage: str
    log_level: str
    mongodb_uri: str
    mongodb_database: str
    mongodb_timeout_ms: int
    mongodb_max_pool_size: int
    mongodb_max_idle_time_ms: int
    max_body_bytes: int
    users_cache_ttl_seconds: int
    cors_allow_origins: tuple[str, ...]
    cors_allow_credentials: bool
    local_auth: bool
    jwt_max_lifetime_seconds: int

    def __init__(self, **values: object) -> None:
        """Every field by name; TypeError when one is missing or unknown."""
        if values.keys() != set(self.__slots__):
            raise TypeError(f"Settings takes exactly these fields: {', '.join(self.__slots__)}")
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Settings are read-only")

    def as_dict(self) -> dict[str, object]:
        """Every field by name."""
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:  # never the connection string: it may hold a password
        return f"Settings(app_name={self.app_name!r}, stage={self.stage!r})"


def _shown(raw: str) -> str:
    """A refused value as an error names it: whole when short, else only its length (it could be a secret)."""
    return repr(raw) if len(raw) <= 20 else f"a value of {len(raw)} characters"


def env_text(environ: Environ, name: str, default: str) -> str:
    """``name`` stripped, ``default`` when empty; ConfigError unless it is printable text."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isprintable():  # control or format characters, or bytes that are no UTF-8 (surrogates)
        raise ConfigError(f"{name} must be printable text without control characters")
    return raw


def env_int(environ: Environ, name: str, default: int, minimum: int, maximum: int) -> int:
    """``name`` as a whole number written in ASCII digits (an optional leading -), within the bounds.

    Unset or empty gives ``default``. Anything else is a ConfigError naming the variable: ``3600.0``,
    ``1h``, ``+5``, ``1_000``, digits of other scripts, a value out of bounds.
    """
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    digits = raw[1:] if raw.startswith("-") else raw
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise ConfigError(f"{name} must be an integer, got {_shown(raw)}")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_bool(environ: Environ, name: str, default: bool) -> bool:
    """``name`` as true (1, true, yes, on) or false (0, false, no, off), any case; ConfigError otherwise."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {_shown(raw)}")


def stage(environ: Environ) -> str:
    """``STAGE`` (default ``local``), as every reader of the settings sees it."""
    return env_text(environ, "STAGE", "local")


def jwt_max_lifetime_seconds(environ: Environ) -> int:
    """``JWT_MAX_LIFETIME_SECONDS``: the longest ``exp - iat`` accepted, 0 (the default) for any; up to 30 days.

    Read by the authorizer's verifier and by the functions behind an HTTP API JWT authorizer alike.
    """
    return env_int(environ, "JWT_MAX_LIFETIME_SECONDS", 0, 0, MAX_LIFETIME_LIMIT_SECONDS)


def _origins(environ: Environ) -> tuple[str, ...]:
    """``CORS_ALLOW_ORIGINS``: comma-separated ``*`` or ``http(s)://host[:port]`` entries (a trailing / is dropped)."""
    raw = environ.get("CORS_ALLOW_ORIGINS", "")
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        host = origin.partition("://")[2]
        if origin != "*" and not (
            origin.startswith(("https://", "http://"))
            and host
            and host.isprintable()
            and " " not in host
            and "/" not in host
        ):
            raise ConfigError(f"CORS_ALLOW_ORIGINS entries must look like https://app.example.com, got {origin[:80]!r}")
    return origins


def _mongodb_uri(environ: Environ) -> str:
    """``MONGODB_URI``: empty, a MongoDB connection string, or a secret reference (see shared.secrets)."""
    uri = environ.get("MONGODB_URI", "").strip()
    if uri and not uri.startswith(MONGODB_URI_PREFIXES):
        start = uri.split(":", 1)[0].split("@", 1)[0][:24]  # never a password
        raise ConfigError(
            f"MONGODB_URI must start with mongodb:// or mongodb+srv:// (or be a secret reference: "
            f"arn:...:secret:... or ssm:/name), got a value starting {start!r}"
        )
    return uri


def load(environ: Environ = os.environ) -> Settings:
    """Build :class:`Settings` from ``environ``; raise :class:`ConfigError` on bad values."""
    stage_name = stage(environ)
    cors_allow_origins = _origins(environ)
    cors_allow_credentials = env_bool(environ, "CORS_ALLOW_CREDENTIALS", False)
    if cors_allow_credentials and "*" in cors_allow_origins:
        raise ConfigError("CORS_ALLOW_ORIGINS may not be '*' when CORS_ALLOW_CREDENTIALS is true")
    local_auth = env_bool(environ, "LOCAL_AUTH", False)
    if local_auth and stage_name != "local":
        raise ConfigError(f"LOCAL_AUTH=true is for local runs only, but STAGE is {stage_name!r}")
    log_level = env_text(environ, "LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    return Settings(
        app_name=env_text(environ, "APP_NAME", "bare-api"),
        stage=stage_name,
        log_level=log_level,
        mongodb_uri=_mongodb_uri(environ),
        mongodb_database=env_text(environ, "MONGODB_DATABASE", "app"),
        mongodb_timeout_ms=env_int(environ, "MONGODB_TIMEOUT_MS", 2000, 100, 60000),
        mongodb_max_pool_size=env_int(environ, "MONGODB_MAX_POOL_SIZE", 2, 1, 100),
        mongodb_max_idle_time_ms=env_int(environ, "MONGODB_MAX_IDLE_TIME_MS", 60000, 100, 3600000),
        max_body_bytes=env_int(environ, "MAX_BODY_BYTES", 16384, 1, 10 * 1024 * 1024),
        users_cache_ttl_seconds=env_int(environ, "USERS_CACHE_TTL_SECONDS", 30, 0, 3600),
        cors_allow_origins=cors_allow_origins,
        cors_allow_credentials=cors_allow_credentials,
        local_auth=local_auth,
        jwt_max_lifetime_seconds=jwt_max_lifetime_seconds(environ),
    )


@cache
def settings() -> Settings:
    """The process-wide settings, read from the environment on first call."""
    return load()
