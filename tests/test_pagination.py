"""Keyset pagination: opaque cursors, limits, and pages over any collection, filter and sort."""

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from bson import ObjectId

from shared import errors
from shared.pagination import after_key, decode_cursor, encode_cursor, now, page, parse_limit


def test_cursor_round_trips_to_the_millisecond():
    moment = datetime(2026, 11, 26, 9, 12, 1, 123000, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, "auth0|abc")) == (moment, "auth0|abc")


def test_cursor_is_url_safe():
    cursor = encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), "ü/+?&=")
    assert cursor.replace("-", "").replace("_", "").isalnum()


def test_no_cursor_means_the_first_page():
    assert decode_cursor(None) is None


@pytest.mark.parametrize("raw", [None, "1", "20", "100"])
def test_limits_from_1_to_100_are_accepted(raw):
    assert parse_limit(raw) == (20 if raw is None else int(raw))


@pytest.mark.parametrize("raw", ["0", "101", "+5", " 5", "5 ", "1e2", "0x10"])
def test_other_limits_are_400(raw):
    with pytest.raises(errors.InvalidParameter):
        parse_limit(raw)


def test_a_limit_of_thousands_of_digits_is_400_not_a_conversion_error():
    with pytest.raises(errors.InvalidParameter):
        parse_limit("1" * 5000)


def test_a_cursor_holds_any_number_of_strings_numbers_booleans_dates_and_object_ids():
    key = ("title", 3, 2.5, True, datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), ObjectId("0123456789abcdef01234567"))
    assert decode_cursor(encode_cursor(*key), size=len(key)) == key


def test_a_cursor_of_another_size_is_400():
    with pytest.raises(errors.InvalidParameter):
        decode_cursor(encode_cursor("a", "b", "c"), size=2)


@pytest.mark.parametrize(
    "key",
    [
        [{"t": -1}, "a"],
        [{"t": 1.5}, "a"],
        [{"o": "XYZ"}, "a"],
        [{"t": 1, "o": "a"}, "a"],
        [None, "a"],
        [[1], "a"],
        [2**63, "a"],
    ],
)
def test_a_cursor_whose_values_are_not_key_values_is_400(key):
    raw = base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")
    with pytest.raises(errors.InvalidParameter):
        decode_cursor(raw)


@pytest.mark.parametrize("raw", ['[1, "a"]', '[1,"a"] ', '[1,"\\u0061"]'])
def test_a_cursor_is_only_accepted_in_the_exact_encoding_the_api_writes(raw):
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    with pytest.raises(errors.InvalidParameter):
        decode_cursor(cursor)


def test_the_keyset_query_continues_after_the_key_in_each_direction():
    sort = [("pinned", -1), ("title", 1), ("_id", 1)]
    assert after_key(sort, (True, "b", 7)) == {
        "$or": [
            {"pinned": {"$lt": True}},
            {"pinned": True, "title": {"$gt": "b"}},
            {"pinned": True, "title": "b", "_id": {"$gt": 7}},
        ]
    }


def test_now_is_truncated_to_what_bson_stores():
    assert now().microsecond % 1000 == 0


NOTES_ORDER = [("created_at", -1), ("_id", 1)]


def seed_notes(database, owners=("alice", "bob"), per_owner=7) -> list[dict]:
    """Notes with ObjectIds, three of each owner's sharing a creation time."""
    documents = [
        {
            "_id": ObjectId(),
            "owner": owner,
            "title": f"{owner} {index}",
            "created_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=max(index - 2, 0)),
        }
        for owner in owners
        for index in range(per_owner)
    ]
    database.notes.insert_many(documents)
    return documents


def all_pages(collection, filter, sort, limit, projection=None) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        documents, cursor = page(collection, filter, sort, cursor, limit, projection)
        pages.append(documents)
        if cursor is None:
            return pages


def test_page_walks_a_filtered_collection_in_order_once_each(database):
    documents = seed_notes(database)
    pages = all_pages(database.notes, {"owner": "alice"}, NOTES_ORDER, 3)
    expected = sorted((d for d in documents if d["owner"] == "alice"), key=lambda d: d["_id"])
    expected.sort(key=lambda d: d["created_at"], reverse=True)
    assert [len(documents) for documents in pages] == [3, 3, 1]
    assert [d["_id"] for documents in pages for d in documents] == [d["_id"] for d in expected]


def test_a_page_of_exactly_limit_items_has_no_next_cursor(database):
    seed_notes(database, per_owner=4)
    documents, cursor = page(database.notes, {"owner": "bob"}, NOTES_ORDER, None, 4)
    assert len(documents) == 4 and cursor is None


def test_page_keeps_a_filter_that_has_its_own_or(database):
    seed_notes(database, owners=("alice", "bob", "carol"))
    filter = {"$or": [{"owner": "alice"}, {"owner": "carol"}]}
    pages = all_pages(database.notes, filter, NOTES_ORDER, 4)
    assert sorted(d["owner"] for documents in pages for d in documents) == ["alice"] * 7 + ["carol"] * 7


def test_a_projection_gets_the_sort_fields_it_needs_for_the_cursor(database):
    seed_notes(database)
    pages = all_pages(database.notes, {"owner": "alice"}, NOTES_ORDER, 2, projection={"title": 1})
    assert sum(len(documents) for documents in pages) == 7
    assert set(pages[0][0]) == {"_id", "title", "created_at"}


def test_page_answers_400_for_a_cursor_of_another_listing_shape(database):
    seed_notes(database)
    with pytest.raises(errors.InvalidParameter):
        page(database.notes, {}, NOTES_ORDER, encode_cursor("x"), 5)
