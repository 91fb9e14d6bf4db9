"""Settings: defaults, parsing, and clear errors for bad values."""

import math
from pathlib import Path

import pytest

from shared.config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent


def test_defaults():
    settings = load({})
    assert settings.stage == "local" and settings.mongodb_database == "app"
    assert settings.max_body_bytes == 16384 and settings.mongodb_timeout_ms == 2000
    assert settings.cors_allow_origins == () and settings.local_auth is False


def test_values_are_read_from_the_environment():
    settings = load(
        {"MAX_BODY_BYTES": "1024", "CORS_ALLOW_ORIGINS": "https://a.example, https://b.example/", "LOCAL_AUTH": "true"}
    )
    assert settings.max_body_bytes == 1024
    assert settings.cors_allow_origins == ("https://a.example", "https://b.example")
    assert settings.local_auth is True


@pytest.mark.parametrize(
    "environ, named",
    [
        ({"MAX_BODY_BYTES": "lots"}, "MAX_BODY_BYTES"),
        ({"MAX_BODY_BYTES": "0"}, "MAX_BODY_BYTES"),
        ({"MONGODB_TIMEOUT_MS": "5"}, "MONGODB_TIMEOUT_MS"),
        ({"LOCAL_AUTH": "maybe"}, "LOCAL_AUTH"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"CORS_ALLOW_ORIGINS": "app.example.com"}, "CORS_ALLOW_ORIGINS"),
        ({"CORS_ALLOW_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"}, "CORS_ALLOW_ORIGINS"),
        ({"LOCAL_AUTH": "true", "STAGE": "prod"}, "LOCAL_AUTH"),
        ({"MONGODB_URI": "notauri"}, "MONGODB_URI"),
        ({"MONGODB_URI": "localhost:27017"}, "MONGODB_URI"),
        ({"MONGODB_URI": "http://db.example.com/"}, "MONGODB_URI"),
    ],
)
def test_bad_values_fail_with_the_variable_named(environ, named):
    with pytest.raises(ConfigError, match=named):
        load(environ)


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "mongodb://127.0.0.1:27017/",
        "mongodb+srv://cluster0.example.mongodb.net/",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bare-api/mongodb-AbCdEf",
        "ssm:/bare-api/mongodb-uri",
    ],
)
def test_a_mongodb_uri_or_a_secret_reference_is_accepted(uri):
    assert load({"MONGODB_URI": uri}).mongodb_uri == uri


def test_a_refused_mongodb_uri_is_not_echoed_past_its_first_word():
    with pytest.raises(ConfigError) as refused:
        load({"MONGODB_URI": "app:s3cret@db.example.com"})
    assert "s3cret" not in str(refused.value) and "'app'" in str(refused.value)


# One parser for every setting, failing closed


@pytest.mark.parametrize("value", ["3600.0", "1h", "-1", "+3600", "3_600", "٣٦٠٠", "2592001", "0x10", "1e3"])
def test_jwt_max_lifetime_seconds_refuses_anything_but_whole_seconds_in_range(value):
    with pytest.raises(ConfigError, match="JWT_MAX_LIFETIME_SECONDS"):
        load({"JWT_MAX_LIFETIME_SECONDS": value})


def test_the_functions_and_the_verifier_read_jwt_max_lifetime_seconds_alike():
    from shared import tokens

    environ = {"JWT_MAX_LIFETIME_SECONDS": "3600"}
    assert load(environ).jwt_max_lifetime_seconds == tokens.load(environ, "local").max_lifetime_seconds == 3600
    for value in ("3600.0", "1h", "-1"):
        with pytest.raises(ConfigError):
            load({"JWT_MAX_LIFETIME_SECONDS": value})
        with pytest.raises(ConfigError):
            tokens.load({"JWT_MAX_LIFETIME_SECONDS": value}, "local")


@pytest.mark.parametrize("name", ["MAX_BODY_BYTES", "MONGODB_TIMEOUT_MS", "USERS_CACHE_TTL_SECONDS"])
@pytest.mark.parametrize("value", ["2000.0", "٢٠٠٠", "+2000", "2_000"])
def test_every_whole_number_setting_takes_only_ascii_digits(name, value):
    with pytest.raises(ConfigError, match=name):
        load({name: value})


@pytest.mark.parametrize("name", ["APP_NAME", "STAGE", "MONGODB_DATABASE", "LOG_LEVEL"])
def test_a_text_setting_with_control_characters_or_undecodable_bytes_is_refused(name):
    for value in ("a\x00b", "a\udcffb"):
        with pytest.raises(ConfigError, match=name):
            load({name: value})


def test_an_unset_lifetime_limit_is_zero_no_limit():
    assert load({}).jwt_max_lifetime_seconds == 0


def test_settings_are_read_only():
    settings = load({})
    with pytest.raises(AttributeError):
        settings.stage = "prod"


# The template's parameters take no value the settings parser refuses

TEMPLATES = ["template.yaml", "template-http.yaml", "template-http-lambda.yaml"]
CANDIDATES = [
    "",
    " ",
    "0",
    "1",
    "600",
    "3600",
    "2592000",
    "2592001",
    "3600.0",
    "1e3",
    "1h",
    "-1",
    "+5",
    "0600",
    "٣",
    "x",
    "a\x01b",
    "dev",
    "prod",
    "INFO",
    "LOUD",
    "app",
    "*",
    "https://app.example.com",
    "https://app.example.com/",
    "https://a.example.com,https://b.example.com",
    "app.example.com",
    "https://user@idp.example.com/keys",
    "https://idp.example.com:99999/keys",
    "https://idp.example.com/keys",
    "https://idp.example.com/.well-known/jwks.json",
    "http://localhost/keys",
    "https://idp.example.com/ x",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:bare-api/jwt-AbCdEf",
    "ssm:/x",
    "mongodb://h/",
]


def _cloudformation_accepts(parameter: dict, value: str) -> bool:
    """Whether CloudFormation takes ``value`` for ``parameter`` (AllowedPattern and AllowedValues, length, bounds)."""
    import re

    if "AllowedPattern" in parameter and not re.fullmatch(parameter["AllowedPattern"], value):
        return False
    if "AllowedValues" in parameter and value not in [str(allowed) for allowed in parameter["AllowedValues"]]:
        return False
    if not parameter.get("MinLength", 0) <= len(value) <= parameter.get("MaxLength", 4096):
        return False
    if parameter.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return False
        return parameter.get("MinValue", -math.inf) <= number <= parameter.get("MaxValue", math.inf)
    return True


def _variables_from_parameters(template: dict) -> dict[str, str]:
    """Every environment variable a function gets from a template parameter, and that parameter."""
    from tools import samtemplate

    blocks = [template.get("Globals", {}).get("Function", {})]
    blocks += [resource["Properties"] for resource in samtemplate.functions(template).values()]
    found = {}
    for block in blocks:
        for name, value in (block.get("Environment") or {}).get("Variables", {}).items():
            if isinstance(value, dict) and value.get("Ref") in template["Parameters"]:
                found[name] = value["Ref"]
    return found


def _parsers_accept(name: str, value: str) -> bool:
    from shared import tokens

    environ = {"STAGE": "prod", "JWT_JWKS_URL": "https://idp.example.com/keys", "JWT_ISSUER": "https://idp/"}
    if name in ("JWT_SECRET", "JWT_JWKS_URL"):  # one key source or the other: the template's Rules say so
        environ = {"STAGE": "prod", "JWT_ISSUER": "https://idp/"}
        if not value:
            other = "JWT_JWKS_URL" if name == "JWT_SECRET" else "JWT_SECRET"
            environ[other] = "https://idp.example.com/keys" if other == "JWT_JWKS_URL" else "ssm:/jwt-secret"
    environ[name] = value
    try:
        load(environ)
        tokens.load(environ, tokens.stage_of(environ))
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize("path", TEMPLATES)
def test_every_value_a_template_parameter_takes_is_one_the_settings_accept(path):
    from tools import samtemplate

    template = samtemplate.load(ROOT / path)
    for name, parameter in _variables_from_parameters(template).items():
        declared = template["Parameters"][parameter]
        values = [*CANDIDATES, str(declared.get("Default", ""))]
        taken = [value for value in values if _cloudformation_accepts(declared, value)]
        assert [value for value in taken if not _parsers_accept(name, value)] == [], f"{parameter} -> {name}"
