"""Field kinds the toolkit offers beside the common ones: maps, alternatives, custom messages, descriptions."""

from __future__ import annotations

import pytest

from shared.schema import AnyOf, FieldError, Integer, Map, Number, Schema, String, Url


def problems_of(field, value) -> list[tuple[str, str]]:
    with pytest.raises(FieldError) as caught:
        field.check(value)
    return caught.value.problems


SCORES = Map(Integer(minimum=0, maximum=10), key=String(min_length=1, max_length=5), max_items=3)


def test_a_map_keeps_the_keys_and_values_that_fit():
    assert SCORES.check({"alice": 3, "bob": 10}) == {"alice": 3, "bob": 10}


def test_a_map_must_be_an_object():
    assert problems_of(SCORES, [1, 2]) == [("", "must be an object")]


def test_a_map_holds_at_most_its_number_of_keys():
    assert problems_of(SCORES, {"a": 1, "b": 2, "c": 3, "d": 4}) == [("", "must have at most 3 keys")]


def test_every_bad_key_and_value_of_a_map_is_listed():
    found = problems_of(SCORES, {"$set": 1, "much-too-long": 2, "ok": 11})
    assert found == [
        ("", "key '$set' may not start with $ or contain ."),
        ("", "key 'much-too-long' must be 1 to 5 characters long"),
        (".ok", "must be from 0 to 10"),
    ]


def test_a_maps_schema_describes_its_keys_and_values():
    schema = SCORES.json_schema()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] == {"type": "integer", "minimum": 0, "maximum": 10}


def test_a_fields_own_message_replaces_the_rule_it_broke():
    code = String(min_length=3, max_length=3, message="must be a 3-letter code")
    assert problems_of(code, "toolong") == [("", "must be a 3-letter code")]
    assert problems_of(code, None) == [("", "must be a 3-letter code")]


def test_a_description_reaches_the_fields_schema_and_the_schemas():
    assert Number(minimum=0, maximum=1000, description="in euros").json_schema() == {
        "type": "number",
        "minimum": 0,
        "maximum": 1000,
        "description": "in euros",
    }
    described = Schema("Price", {"amount": Number()}, description="A price").json_schema()
    assert described["description"] == "A price"


def test_any_of_takes_the_first_alternative_that_fits_and_describes_them_all():
    size = AnyOf(Integer(minimum=1, maximum=9), String(min_length=1, max_length=2))
    assert size.check(3) == 3
    assert size.check("XL") == "XL"
    assert size.json_schema() == {
        "anyOf": [{"type": "integer", "minimum": 1, "maximum": 9}, {"type": "string", "minLength": 1, "maxLength": 2}]
    }


def test_a_url_that_cannot_be_split_is_refused():
    assert problems_of(Url(), "https://[::1") == [("", "must be an https:// URL")]
