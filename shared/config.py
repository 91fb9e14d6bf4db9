"""Settings read once from environment variables.

Every variable the functions read is listed here, with its default; README's
"Configuration" table documents the same names. Bad values fail at the first
call to :func:`settings` with a :class:`ConfigError` that names the variable.
"""

from __future__ import annotations

import os
from collections import namedtuple
from functools import cache


class ConfigError(ValueError):
    """An environment variable is missing or has an invalid value."""


MONGODB_URI_PREFIXES = ("mongodb://", "mongodb+srv://", "arn:", "ssm:")  # the last two: secret references


# A namedtuple rather than a frozen dataclass: generating a dataclass's methods
# costs a measurable share of every function's cold start (see `make bench`).
_SETTINGS_FIELDS = (
    "app_name stage log_level mongodb_uri mongodb_database mongodb_timeout_ms mongodb_max_pool_size "
    "mongodb_max_idle_time_ms max_body_bytes users_cache_ttl_seconds cors_allow_origins cors_allow_credentials "
    "local_auth"
)


class Settings(namedtuple("Settings", _SETTINGS_FIELDS)):
    """The functions' configuration, immutable; built by :func:`load`, which gives each field's type."""

    __slots__ = ()

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


def env_int(environ, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_bool(environ, name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _origins(environ) -> tuple[str, ...]:
    raw = environ.get("CORS_ALLOW_ORIGINS", "")
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("https://", "http://")):
            raise ConfigError(f"CORS_ALLOW_ORIGINS entries must look like https://app.example.com, got {origin!r}")
    return origins


def _mongodb_uri(environ) -> str:
    """``MONGODB_URI``: empty, a MongoDB connection string, or a secret reference (see shared.secrets)."""
    uri = environ.get("MONGODB_URI", "").strip()
    if uri and not uri.startswith(MONGODB_URI_PREFIXES):
        start = uri.split(":", 1)[0].split("@", 1)[0][:24]  # never a password
        raise ConfigError(f"MONGODB_URI must start with mongodb:// or mongodb+srv:// (or be a secret reference: "
                          f"arn:...:secret:... or ssm:/name), got a value starting {start!r}")
    return uri


def load(environ=os.environ) -> Settings:
    """Build :class:`Settings` from ``environ``; raise :class:`ConfigError` on bad values."""
    stage = environ.get("STAGE", "local").strip() or "local"
    cors_allow_origins = _origins(environ)
    cors_allow_credentials = env_bool(environ, "CORS_ALLOW_CREDENTIALS", False)
    if cors_allow_credentials and "*" in cors_allow_origins:
        raise ConfigError("CORS_ALLOW_ORIGINS may not be '*' when CORS_ALLOW_CREDENTIALS is true")
    local_auth = env_bool(environ, "LOCAL_AUTH", False)
    if local_auth and stage != "local":
        raise ConfigError(f"LOCAL_AUTH=true is for local runs only, but STAGE is {stage!r}")
    log_level = environ.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    return Settings(
        app_name=environ.get("APP_NAME", "bare-api").strip() or "bare-api",
        stage=stage,
        log_level=log_level,
        mongodb_uri=_mongodb_uri(environ),
        mongodb_database=environ.get("MONGODB_DATABASE", "app").strip() or "app",
        mongodb_timeout_ms=env_int(environ, "MONGODB_TIMEOUT_MS", 2000, 100, 60000),
        mongodb_max_pool_size=env_int(environ, "MONGODB_MAX_POOL_SIZE", 2, 1, 100),
        mongodb_max_idle_time_ms=env_int(environ, "MONGODB_MAX_IDLE_TIME_MS", 60000, 100, 3600000),
        max_body_bytes=env_int(environ, "MAX_BODY_BYTES", 16384, 1, 10 * 1024 * 1024),
        users_cache_ttl_seconds=env_int(environ, "USERS_CACHE_TTL_SECONDS", 30, 0, 3600),
        cors_allow_origins=cors_allow_origins,
        cors_allow_credentials=cors_allow_credentials,
        local_auth=local_auth,
    )


@cache
def settings() -> Settings:
    """The process-wide settings, read from the environment on first call."""
    return load()
