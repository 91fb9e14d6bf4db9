"""The profile's body rules (profiles/schema.py): known fields only, typed and bounded."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from profiles.schema import PROFILE
from shared import errors
from shared.schema import merge_patch_parts

ROOT = Path(__file__).resolve().parents[2]
PATCH = PROFILE.patch()


def profile_update(body) -> tuple[dict, list[str]]:
    return merge_patch_parts(PATCH.validate(body))


def fields_refused(body) -> list[str]:
    with pytest.raises(errors.ValidationFailed) as caught:
        PATCH.validate(body)
    return [error["field"] for error in caught.value.extensions["errors"]]


def test_valid_update_is_split_into_set_and_unset():
    body = {
        "name": "Alice",
        "bio": None,
        "locale": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "avatar_url": "https://cdn.example.com/a.png",
        "preferences": {"theme": "dark", "size": 3, "beta": True},
    }
    to_set, to_unset = profile_update(body)
    assert to_unset == ["bio"]
    assert to_set == {key: value for key, value in body.items() if key != "bio"}


def test_name_may_not_be_removed():
    assert fields_refused({"name": None}) == ["name"]


def test_an_empty_patch_is_refused():
    assert fields_refused({}) == ["(body)"]


def test_every_bad_field_is_listed():
    assert fields_refused({"name": "", "locale": "english", "color": "red"}) == ["name", "locale", "color"]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+3"])
def test_time_zones_are_accepted(zone):
    assert profile_update({"timezone": zone})[0] == {"timezone": zone}


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus_Mons",
        "Europe/Atlantis",
        "europe/paris",
        "Factory",
        "posix/Europe/Paris",
        "../../etc/passwd",
        "Europe/Paris ",
        "",
        "UTC" * 30,
        42,
    ],
)
def test_anything_but_an_iana_time_zone_is_refused(zone):
    assert fields_refused({"timezone": zone}) == ["timezone"]


def test_the_time_zone_database_is_loaded_only_when_a_patch_sends_a_timezone():
    script = (
        "import sys; import handlers.me; from profiles.schema import PROFILE; "
        "print('tzdata' in sys.modules); "
        "PROFILE.patch().validate({'bio': 'x'}); print('tzdata' in sys.modules); "
        "PROFILE.patch().validate({'timezone': 'Asia/Tokyo'}); print('tzdata' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "STAGE": "local"},
        timeout=60,
    )
    assert result.stdout.split() == ["False", "False", "True"]


@pytest.mark.parametrize("locale", ["en", "en-GB", "zh-Hant-TW", "fil"])
def test_locales_are_accepted(locale):
    assert profile_update({"locale": locale})[0] == {"locale": locale}


@pytest.mark.parametrize("locale", ["en\n", "en-GB\n", "\nen", "e", "english", "en_GB"])
def test_a_locale_must_be_a_whole_tag_with_nothing_after_it(locale):
    assert fields_refused({"locale": locale}) == ["locale"]


@pytest.mark.parametrize("key", ["a\n", "theme\n", "\ntheme"])
def test_a_preference_key_must_be_whole_with_nothing_after_it(key):
    assert fields_refused({"preferences": {key: 1}}) == ["preferences"]


def test_bio_may_span_lines_but_name_may_not():
    assert profile_update({"bio": "line one\nline two"})[0]["bio"] == "line one\nline two"
    assert fields_refused({"name": "Alice\nDrop"}) == ["name"]


@pytest.mark.parametrize("name", ["   ", "\x00", "x" * 101])
def test_bad_names_are_refused(name):
    assert fields_refused({"name": name}) == ["name"]


@pytest.mark.parametrize(
    "character",
    [
        "\u0085",
        "\u2028",
        "\u2029",
        "\u202e",
        "\u202a",
        "\u2066",
        "\u2069",
        "\u200b",
        "\u200e",
        "\ufeff",
        "\u061c",
        "\x9b",
    ],
)
def test_a_one_line_name_refuses_line_separators_and_bidirectional_controls(character):
    assert fields_refused({"name": f"Alice{character}evil"}) == ["name"]


@pytest.mark.parametrize("character", ["\u2028", "\u202e", "\r", "\x0b"])
def test_a_bio_refuses_them_too_but_not_line_breaks_and_tabs(character):
    assert fields_refused({"bio": f"one{character}two"}) == ["bio"]
    assert profile_update({"bio": "one\n\ttwo"})[0] == {"bio": "one\n\ttwo"}


PERSIAN_WITH_ZWNJ = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"


@pytest.mark.parametrize("name", ["Zoë", "李小龙", "👩\u200d👩\u200d👧", PERSIAN_WITH_ZWNJ, "Ana María"])
def test_names_in_any_script_and_emoji_sequences_are_accepted(name):
    assert profile_update({"name": name})[0] == {"name": name}


@pytest.mark.parametrize(
    "url",
    [
        "https://user@cdn.example.com/a.png",
        "https://user:pw@cdn.example.com/a.png",
        "https://good.com\\@evil.com/",
        "https://good.com\\evil.com/",
        "https://@evil.com/",
        "http://cdn.example.com/a.png",
        "https:///a.png",
        "https://[::1/",
        "ftp://x/",
    ],
)
def test_an_avatar_url_refuses_userinfo_backslashes_and_anything_but_https(url):
    assert fields_refused({"avatar_url": url}) == ["avatar_url"]


@pytest.mark.parametrize(
    "url",
    ["https://cdn.example.com/a.png", "https://cdn.example.com/@alice/a.png?v=2", "https://[2001:db8::1]:8443/a.png"],
)
def test_an_avatar_url_with_an_at_sign_in_its_path_is_accepted(url):
    assert profile_update({"avatar_url": url})[0] == {"avatar_url": url}


@pytest.mark.parametrize("key", ["$set", "$where", "a.b", "."])
def test_operator_and_dotted_keys_are_refused(key):
    assert fields_refused({key: "x"}) == [key]


@pytest.mark.parametrize("key", ["$set", "a.b"])
def test_operator_and_dotted_preference_keys_are_refused(key):
    assert fields_refused({"preferences": {key: "x"}}) == ["preferences"]


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1, "x" * 201, None, [1], {"a": 1}, "a\u2028b"])
def test_bad_preference_values_are_refused(value):
    assert fields_refused({"preferences": {"k": value}}) == ["preferences.k"]


def test_more_than_twenty_preferences_are_refused():
    assert fields_refused({"preferences": {f"k{index}": index for index in range(21)}}) == ["preferences"]


def test_overlong_field_names_are_truncated_in_the_problem():
    assert fields_refused({"x" * 1000: 1}) == ["x" * 50]


def test_every_profile_field_has_a_valid_example():
    from profiles.schema import PROFILE

    assert PROFILE.validate(PROFILE.example()) == PROFILE.example()
    assert all(field.example() is not None for field in PROFILE.fields.values())
