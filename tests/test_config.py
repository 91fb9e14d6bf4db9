"""Settings: defaults, parsing, and clear errors for bad values."""

import pytest

from shared.config import ConfigError, load


def test_defaults():
    settings = load({})
    assert settings.stage == "local" and settings.mongodb_database == "app"
    assert settings.max_body_bytes == 16384 and settings.mongodb_timeout_ms == 2000
    assert settings.cors_allow_origins == () and settings.local_auth is False


def test_values_are_read_from_the_environment():
    settings = load({"MAX_BODY_BYTES": "1024", "CORS_ALLOW_ORIGINS": "https://a.example, https://b.example/",
                     "LOCAL_AUTH": "true"})
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


@pytest.mark.parametrize("uri", [
    "", "mongodb://127.0.0.1:27017/", "mongodb+srv://cluster0.example.mongodb.net/",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bare-api/mongodb-AbCdEf", "ssm:/bare-api/mongodb-uri",
])
def test_a_mongodb_uri_or_a_secret_reference_is_accepted(uri):
    assert load({"MONGODB_URI": uri}).mongodb_uri == uri


def test_a_refused_mongodb_uri_is_not_echoed_past_its_first_word():
    with pytest.raises(ConfigError) as refused:
        load({"MONGODB_URI": "app:s3cret@db.example.com"})
    assert "s3cret" not in str(refused.value) and "'app'" in str(refused.value)
