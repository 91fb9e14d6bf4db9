"""Opaque cursors and limits."""

from datetime import UTC, datetime

import pytest

from shared import errors
from shared.pagination import decode_cursor, encode_cursor, parse_limit


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
