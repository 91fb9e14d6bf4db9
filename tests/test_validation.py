"""Profile update validation: known fields only, typed and bounded."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared import errors
from shared.validation import profile_update

ROOT = Path(__file__).resolve().parent.parent


def fields_refused(body) -> list[str]:
    with pytest.raises(errors.ValidationFailed) as caught:
        profile_update(body)
    return [error["field"] for error in caught.value.extensions["errors"]]


def test_valid_update_is_split_into_set_and_unset():
    body = {"name": "Alice", "bio": None, "locale": "pt-BR", "timezone": "America/Sao_Paulo",
            "avatar_url": "https://cdn.example.com/a.png", "preferences": {"theme": "dark", "size": 3, "beta": True}}
    to_set, to_unset = profile_update(body)
    assert to_unset == ["bio"]
    assert to_set == {key: value for key, value in body.items() if key != "bio"}


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+3"])
def test_time_zones_are_accepted(zone):
    assert profile_update({"timezone": zone})[0] == {"timezone": zone}


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Europe/Atlantis", "europe/paris", "Factory",
                                  "posix/Europe/Paris", "../../etc/passwd", "Europe/Paris ", "", "UTC" * 30, 42])
def test_anything_but_an_iana_time_zone_is_refused(zone):
    assert fields_refused({"timezone": zone}) == ["timezone"]


def test_the_time_zone_database_is_loaded_only_when_a_patch_sends_a_timezone():
    script = ("import sys; import handlers.me; from shared import validation; print('tzdata' in sys.modules); "
              "validation.profile_update({'bio': 'x'}); print('tzdata' in sys.modules); "
              "validation.profile_update({'timezone': 'Asia/Tokyo'}); print('tzdata' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={**os.environ, "STAGE": "local"}, timeout=60)
    assert result.stdout.split() == ["False", "False", "True"]


@pytest.mark.parametrize("locale", ["en", "en-GB", "zh-Hant-TW", "fil"])
def test_locales_are_accepted(locale):
    assert profile_update({"locale": locale})[0] == {"locale": locale}


def test_bio_may_span_lines_but_name_may_not():
    assert profile_update({"bio": "line one\nline two"})[0]["bio"] == "line one\nline two"
    assert fields_refused({"name": "Alice\nDrop"}) == ["name"]


@pytest.mark.parametrize("name", ["   ", "\x00", "x" * 101])
def test_bad_names_are_refused(name):
    assert fields_refused({"name": name}) == ["name"]


@pytest.mark.parametrize("key", ["$set", "$where", "a.b", "."])
def test_operator_and_dotted_keys_are_refused(key):
    assert fields_refused({key: "x"}) == [key]


@pytest.mark.parametrize("value", [2**53 + 1, "x" * 201, None, [1], {"a": 1}])
def test_bad_preference_values_are_refused(value):
    assert fields_refused({"preferences": {"k": value}}) == ["preferences"]


def test_overlong_field_names_are_truncated_in_the_problem():
    assert fields_refused({"x" * 1000: 1}) == ["x" * 50]
