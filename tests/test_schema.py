"""Declarative bodies (shared/schema.py): every field type, every bad field listed, and the schema they describe."""

import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from shared import errors
from shared.schema import (
    AnyOf,
    Boolean,
    Enum,
    FieldError,
    Integer,
    List,
    Map,
    Number,
    Object,
    Schema,
    String,
    Url,
    merge_patch_parts,
    refused_characters,
)

ROOT = Path(__file__).resolve().parent.parent
NOTE = Schema(
    "Note",
    {
        "title": String(min_length=1, max_length=100, required=True, example="Groceries"),
        "body": String(max_length=2000, one_line=False, nullable=True),
        "pinned": Boolean(),
        "color": Enum(["red", "green"], nullable=True),
        "priority": Integer(minimum=1, maximum=5),
        "tags": List(String(min_length=1, max_length=20), max_items=3),
        "link": Url(nullable=True),
    },
)


def problems(schema, body) -> list[dict]:
    with pytest.raises(errors.ValidationFailed) as caught:
        schema.validate(body)
    return caught.value.extensions["errors"]


def fields_refused(schema, body) -> list[str]:
    return [problem["field"] for problem in problems(schema, body)]


def test_a_valid_body_is_returned_as_checked():
    body = {
        "title": "Groceries",
        "body": "eggs\nmilk",
        "pinned": True,
        "color": "red",
        "priority": 2,
        "tags": ["home"],
        "link": "https://example.com/list",
    }
    assert NOTE.validate(body) == body


def test_only_the_fields_sent_are_returned():
    assert NOTE.validate({"title": "Groceries"}) == {"title": "Groceries"}


def test_a_missing_required_field_is_refused():
    assert problems(NOTE, {"pinned": True}) == [{"field": "title", "message": "is required"}]


def test_every_bad_field_is_listed_once_with_its_reason():
    found = problems(NOTE, {"title": "", "pinned": "yes", "priority": 9, "owner": "mallory", "$where": 1})
    assert [problem["field"] for problem in found] == ["title", "pinned", "priority", "owner", "$where"]
    assert found[3]["message"].startswith("unknown field; allowed: title, body, pinned")
    assert found[4]["message"] == "field names may not start with $ or contain ."


@pytest.mark.parametrize("body", [None, [], "title", 3])
def test_a_body_that_is_not_an_object_is_refused(body):
    assert fields_refused(NOTE, body) == ["(body)"]


def test_null_is_accepted_only_by_a_nullable_field():
    assert NOTE.validate({"title": "x", "body": None}) == {"title": "x", "body": None}
    assert problems(NOTE, {"title": None}) == [{"field": "title", "message": "may not be null"}]


def test_a_patch_makes_every_field_optional_and_keeps_null_as_a_removal():
    patch = NOTE.patch()
    assert patch.validate({"body": None, "pinned": False}) == {"body": None, "pinned": False}
    assert merge_patch_parts(patch.validate({"body": None, "pinned": False})) == ({"pinned": False}, ["body"])


def test_a_patch_refuses_null_for_a_field_that_cannot_be_removed_and_an_empty_body():
    assert problems(NOTE.patch(), {"title": None}) == [{"field": "title", "message": "may not be removed"}]
    assert problems(NOTE.patch(), {}) == [{"field": "(body)", "message": "must name at least one field"}]


@pytest.mark.parametrize("value", [True, 1.0, "3", 0, 6, 2**60])
def test_integers_are_whole_numbers_in_bounds_and_never_booleans(value):
    with pytest.raises(FieldError):
        Integer(minimum=1, maximum=5).check(value)


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1])
def test_integers_and_numbers_are_bounded_to_what_javascript_holds_exactly(value):
    for field in (Integer(), Number()):
        with pytest.raises(FieldError):
            field.check(value)


def test_numbers_accept_integers_and_floats_but_not_booleans():
    assert Number().check(2) == 2 and Number().check(2.5) == 2.5
    with pytest.raises(FieldError):
        Number().check(False)


def test_enum_compares_type_and_value():
    with pytest.raises(FieldError):
        Enum([1, 2]).check(True)
    assert Enum([1, 2]).check(2) == 2


def test_a_pattern_must_match_the_whole_value_not_a_line_of_it():
    field = String(pattern="[a-z]{2}", example="en")
    for value in ("en\n", "en\nfr", "xen", "é"):
        with pytest.raises(FieldError):
            field.check(value)


def test_a_pattern_is_ascii_as_in_the_openapi_document():
    with pytest.raises(FieldError):
        String(pattern=r"\d+", example="1").check("٣")


def test_a_field_whose_example_breaks_its_rule_is_refused_when_the_example_is_asked_for():
    with pytest.raises(ValueError, match="example 'ABC' breaks"):
        String(pattern="[a-z]+", example="ABC").example()


def test_a_pattern_without_an_example_cannot_give_one():
    with pytest.raises(ValueError, match="needs an example"):
        String(pattern="[a-z]+").example()


@pytest.mark.parametrize("key", ["$gt", "a.b"])
def test_a_map_refuses_operator_and_dotted_keys_whatever_its_key_rule(key):
    with pytest.raises(FieldError):
        Map(Integer(), key=String(max_length=10)).check({key: 1})


def test_a_map_and_a_list_name_the_bad_item():
    with pytest.raises(FieldError, match=r"^b: must be an integer$"):
        Map(Integer()).check({"a": 1, "b": "2"})
    with pytest.raises(FieldError, match=r"^\[1\]: must be a string$"):
        List(String()).check(["a", 2])


def test_any_of_chooses_the_field_by_json_type():
    field = AnyOf(String(max_length=3), Number(), Boolean())
    assert [field.check(value) for value in ("abc", 1, True)] == ["abc", 1, True]
    with pytest.raises(FieldError, match="must be a string, a number or a boolean"):
        field.check([1])
    with pytest.raises(FieldError, match="characters"):
        field.check("abcd")


@pytest.mark.parametrize(
    "url",
    [
        "https://u@example.com/",
        "https://example.com\\@evil.com/",
        "http://example.com/",
        "https://",
        "https://ex ample.com\n",
    ],
)
def test_urls_are_https_with_a_host_and_no_userinfo_or_backslash(url):
    with pytest.raises(FieldError):
        Url().check(url)


def test_one_line_text_refuses_exactly_cc_cf_zl_and_zp_but_the_zero_width_joiners():
    refused = {chr(code) for code in range(0x110000) if chr(code) in refused_characters(one_line=True)}
    wanted = {chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp")} - {
        "\u200c",
        "\u200d",
    }
    assert wanted <= refused
    # The list is Unicode 15.1's (the runtime's Python 3.13); an older Python sees the newer ones as unassigned.
    assert all(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cn") for char in refused - wanted)


@pytest.mark.parametrize("text", ["Zoë\u202e", "\u2028", "é\x00", "é\n", "\x85"])
def test_one_line_text_beyond_ascii_is_held_to_the_same_rule(text):
    with pytest.raises(FieldError):
        String().check(text)


def test_multiline_text_accepts_line_feeds_and_tabs_only():
    field = String(one_line=False)
    assert field.check("a\n\tb") == "a\n\tb"
    for char in ("\r", "\x0b", "\u2028", "\u202e"):
        with pytest.raises(FieldError):
            field.check(f"a{char}b")


def test_the_json_schema_lists_types_bounds_required_and_refuses_other_fields():
    schema = NOTE.json_schema()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["required"] == ["title"]
    assert schema["properties"]["title"] == {"type": "string", "maxLength": 100, "minLength": 1}
    assert schema["properties"]["body"]["type"] == ["string", "null"]
    assert schema["properties"]["color"] == {"enum": ["red", "green", None]}
    assert schema["properties"]["priority"] == {"type": "integer", "minimum": 1, "maximum": 5}
    assert schema["properties"]["tags"] == {
        "type": "array",
        "maxItems": 3,
        "items": {"type": "string", "minLength": 1, "maxLength": 20},
    }


def test_a_patch_schema_requires_nothing_but_one_property():
    schema = NOTE.patch().json_schema()
    assert "required" not in schema and schema["minProperties"] == 1


def test_a_pattern_is_anchored_in_the_json_schema():
    assert String(pattern="[a-z]+", example="a").json_schema()["pattern"] == "^(?:[a-z]+)$"


def declared_bodies() -> list[Schema]:
    """The body schemas of the repository's routes (whatever is declared) and of the fixture resource's."""
    from tests.fixtures.resources import parcels
    from tools.checks.declarations import declared_routes

    return [route.body for route in [*declared_routes(), *parcels.router.routes] if route.body is not None]


def test_every_declared_body_has_an_example_for_each_field_and_the_example_is_valid():
    for schema in declared_bodies():
        assert schema.validate(schema.example()) == schema.example(), schema.name
        assert [name for name, field in schema.fields.items() if field.example() is None] == [], schema.name


def test_the_example_of_a_schema_is_a_valid_body():
    assert NOTE.validate(NOTE.example()) == NOTE.example()
    assert NOTE.patch().validate(NOTE.patch().example())


@pytest.mark.parametrize("name", ["", "$set", "a.b"])
def test_a_schema_refuses_field_names_mongodb_would_misread(name):
    with pytest.raises(ValueError):
        Schema("Bad", {name: String()})


def test_the_schema_module_imports_only_the_standard_library_and_shared_errors_and_no_url_parser():
    script = "import sys; before = set(sys.modules); import shared.schema; print(*sorted(set(sys.modules) - before))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(result.stdout.split())
    assert {name for name in loaded if name.split(".")[0] not in sys.stdlib_module_names} == {
        "shared",
        "shared.schema",
        "shared.errors",
    }
    assert "urllib.parse" not in loaded  # only a Url check loads it


LINE = Schema(
    "Line",
    {
        "sku": String(min_length=3, max_length=12, required=True, example="SKU-1"),
        "quantity": Integer(minimum=1, maximum=99, required=True, example=1),
    },
)
ORDER = Schema(
    "Order",
    {
        "reference": String(max_length=20, required=True, example="A-1"),
        "address": Object(
            Schema("Address", {"city": String(min_length=1, max_length=50, required=True, example="Lyon")})
        ),
        "items": List(Object(LINE), min_items=1, max_items=50, required=True),
    },
)


def test_an_object_field_returns_the_nested_body_as_checked():
    body = {"reference": "A-1", "address": {"city": "Lyon"}, "items": [{"sku": "SKU-1", "quantity": 2}]}
    assert ORDER.validate(body) == body


def test_every_bad_field_inside_a_list_of_objects_is_listed_with_its_path():
    items = [
        {"sku": "SKU-1", "quantity": 1},
        {"sku": "x", "quantity": 1},
        {"sku": "SKU-3", "quantity": 0},
        {"quantity": 1, "colour": "red"},
    ]
    assert problems(ORDER, {"reference": "A-1", "items": items}) == [
        {"field": "items[1].sku", "message": "must be 3 to 12 characters long"},
        {"field": "items[2].quantity", "message": "must be from 1 to 99"},
        {"field": "items[3].colour", "message": "unknown field; allowed: sku, quantity"},
        {"field": "items[3].sku", "message": "is required"},
    ]


def test_a_bad_field_of_a_nested_object_is_named_by_its_path():
    assert problems(ORDER, {"reference": "A-1", "address": {"city": ""}, "items": [[]]}) == [
        {"field": "address.city", "message": "must be 1 to 50 characters long"},
        {"field": "items[0]", "message": "must be an object"},
    ]


def test_every_bad_item_of_a_list_is_listed_not_only_the_first():
    with pytest.raises(FieldError) as caught:
        List(Integer()).check([1, "a", 2, "b"])
    assert caught.value.problems == [("[1]", "must be an integer"), ("[3]", "must be an integer")]


def test_an_object_field_is_described_by_its_schema_inline():
    described = ORDER.json_schema()["properties"]["items"]
    assert described["items"] == LINE.json_schema()
    assert described["items"]["required"] == ["sku", "quantity"]


def test_the_example_of_a_schema_with_objects_is_a_valid_body():
    assert ORDER.validate(ORDER.example()) == ORDER.example()


@pytest.mark.parametrize(
    "text", ["18446744073709551616", "-9223372036854775809", "1e20", "9007199254740993.0", "9007199254740992.0"]
)
def test_a_number_refuses_whole_values_beyond_two_to_the_53_however_written(text):
    import orjson

    preferences = Map(AnyOf(String(max_length=200), Number(), Boolean()))
    with pytest.raises(FieldError, match=r"2\*\*53"):
        preferences.check({"level": orjson.loads(text)})


def test_a_number_keeps_fractions_and_whole_numbers_within_two_to_the_53():
    assert [Number().check(value) for value in (0.5, -1e15, 2**53, -(2**53))] == [0.5, -1e15, 2**53, -(2**53)]


def test_a_patch_keeps_null_for_a_field_that_is_required_and_nullable_instead_of_removing_it():
    schema = Schema("Card", {"title": String(required=True, nullable=True), "note": String(nullable=True)})
    checked = schema.patch().validate({"title": None, "note": None})
    assert merge_patch_parts(checked) == ({"title": None}, ["note"])
    schema.validate({"title": checked["title"]})  # what is stored still fits the schema


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        (Integer(minimum=1, maximum=100), "20", 20),
        (Number(), "-2.5", -2.5),
        (Boolean(), "true", True),
        (Enum(["open", "closed"]), "open", "open"),
        (Enum([1, 2]), "2", 2),
        (String(max_length=5), "abc", "abc"),
    ],
)
def test_a_query_text_is_read_as_its_field_type(field, text, value):
    assert field.from_text(text) == value


@pytest.mark.parametrize(
    ("field", "text"),
    [
        (Integer(), "1.0"),
        (Integer(), " 1"),
        (Integer(), "\u0661"),
        (Integer(minimum=1, maximum=100), "0"),
        (Number(), "nan"),
        (Number(), "1e400"),
        (Boolean(), "True"),
        (Enum(["open"]), "Open"),
    ],
)
def test_a_query_text_that_is_not_its_field_type_is_refused(field, text):
    with pytest.raises(FieldError):
        field.from_text(text)


def test_only_query_parameters_take_a_default():
    with pytest.raises(ValueError, match="only query parameters"):
        Schema("Page", {"limit": Integer(default=20)})


def test_a_pattern_is_compiled_on_the_first_check_not_at_declaration():
    field = String(pattern="[a-z]{2}", example="en")
    assert field._compiled is None
    assert field.check("en") == "en" and field._compiled is not None


@pytest.mark.parametrize("bounds", [{"maximum": 2**60}, {"minimum": -(2**53) - 1}])
def test_bounds_beyond_two_to_the_53_are_refused_at_declaration(bounds):
    for kind in (Integer, Number):
        with pytest.raises(ValueError, match=r"2\*\*53"):
            kind(**bounds)


def test_declaring_fields_checks_no_example_and_compiles_no_pattern():
    key = String(pattern="[a-z]+", example="theme")
    declared = Schema(
        "Prefs",
        {
            "prefs": Map(AnyOf(String(pattern="[0-9]+", example="1"), Boolean()), key=key),
            "codes": List(String(pattern="[A-Z]+", example="AB")),
        },
    )
    assert key._compiled is None and declared.fields["codes"].item._compiled is None
    assert declared.validate({"prefs": {"theme": "7"}, "codes": ["AB"]}) == {"prefs": {"theme": "7"}, "codes": ["AB"]}
