"""GET /users/{user_id} and GET /users against the real database."""

from datetime import UTC, datetime, timedelta

import pytest

from handlers import me, users
from profiles import store as profiles
from shared.pagination import encode_cursor
from tests.apigw import http_event, http_lambda_authorizer, parsed, rest_authorizer, rest_event

START = datetime(2026, 1, 1, tzinfo=UTC)


def get_user(user_id, headers=None, authorizer=None):
    event = rest_event("GET", f"/users/{user_id}", headers=headers, authorizer=authorizer or rest_authorizer())
    return parsed(users.lambda_handler(event, None))


def list_users(query=None, build=rest_event, authorizer=None):
    event = build("GET", "/users", query=query, authorizer=authorizer or rest_authorizer())
    return parsed(users.lambda_handler(event, None))


def seed(database, count):
    """``count`` profiles, user-00 the oldest, two of them sharing each creation time."""
    documents = [
        {
            "_id": f"user-{index:02}",
            "name": f"User {index}",
            "email": f"u{index}@example.com",
            "created_at": START + timedelta(seconds=index // 2),
            "revision": f"rev{index}",
        }
        for index in range(count)
    ]
    if documents:
        database.profiles.insert_many(documents)
    return documents


def test_public_profile_has_only_public_fields(database):
    database.profiles.insert_one(
        {
            "_id": "bob",
            "name": "Bob",
            "bio": "hi",
            "email": "bob@example.com",
            "timezone": "UTC",
            "preferences": {"x": 1},
            "created_at": START,
            "revision": "r1",
        }
    )
    status, headers, body = get_user("bob")
    assert status == 200
    assert body == {"id": "bob", "name": "Bob", "bio": "hi", "created_at": "2026-01-01T00:00:00Z"}
    assert headers["etag"] == '"r1"'
    assert headers["cache-control"].startswith("private, max-age=")


def test_unknown_user_is_404_problem(database):
    status, _, problem = get_user("nobody")
    assert (status, problem["status"]) == (404, 404)


def test_if_none_match_with_current_etag_is_304_without_body(database):
    seed(database, 1)
    _, headers, _ = get_user("user-00")
    status, not_modified_headers, body = get_user("user-00", headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, None)
    assert not_modified_headers["etag"] == headers["etag"]


def test_if_none_match_with_weak_or_listed_etag_is_304(database):
    seed(database, 1)
    assert get_user("user-00", headers={"If-None-Match": '"other", W/"rev0"'})[0] == 304


def test_if_none_match_with_old_etag_is_200(database):
    seed(database, 1)
    assert get_user("user-00", headers={"If-None-Match": '"old"'})[0] == 200


def test_profile_is_served_from_the_container_cache_within_the_ttl(database):
    seed(database, 1)
    get_user("user-00")
    database.profiles.update_one({"_id": "user-00"}, {"$set": {"name": "Renamed", "revision": "rev9"}})
    assert get_user("user-00")[2]["name"] == "User 0"


def test_cache_expiry_shows_the_new_profile(database):
    seed(database, 1)
    get_user("user-00")
    database.profiles.update_one({"_id": "user-00"}, {"$set": {"name": "Renamed", "revision": "rev9"}})
    users.public_profiles.entries.clear()
    _, headers, body = get_user("user-00")
    assert (body["name"], headers["etag"]) == ("Renamed", '"rev9"')


def test_own_update_changes_the_public_etag(database):
    authorizer = rest_authorizer()
    me.lambda_handler(rest_event("GET", "/me", authorizer=authorizer), None)
    _, before, _ = get_user("alice")
    me.lambda_handler(rest_event("PATCH", "/me", body={"bio": "new"}, authorizer=authorizer), None)
    users.public_profiles.entries.clear()
    _, after, body = get_user("alice")
    assert after["etag"] != before["etag"] and body["bio"] == "new"


def test_a_user_id_percent_encoded_in_a_rest_api_path_is_decoded(database):
    database.profiles.insert_one({"_id": "al ice@example.com", "name": "Al", "created_at": START, "revision": "r1"})
    status, _, body = get_user("al%20ice%40example.com")
    assert (status, body["id"]) == (200, "al ice@example.com")


def test_an_http_api_user_id_arrives_decoded(database):
    database.profiles.insert_one({"_id": "100% real", "name": "Real", "created_at": START, "revision": "r1"})
    event = http_event("GET", "/users/100% real", authorizer=http_lambda_authorizer())
    status, _, body = parsed(users.lambda_handler(event, None))
    assert (status, body["id"]) == (200, "100% real")


def test_overlong_user_id_is_400(database):
    status, _, problem = get_user("x" * 300)
    assert status == 400 and problem["parameter"] == "user_id"


def test_user_routes_need_a_principal(database):
    assert parsed(users.lambda_handler(rest_event("GET", "/users/bob"), None))[0] == 401
    assert parsed(users.lambda_handler(rest_event("GET", "/users"), None))[0] == 401


def test_list_is_newest_first_with_ids_breaking_ties(database):
    seed(database, 4)
    _, _, body = list_users()
    assert [item["id"] for item in body["items"]] == ["user-03", "user-02", "user-01", "user-00"]
    assert body["next_cursor"] is None


def test_list_items_are_public_profiles(database):
    seed(database, 1)
    _, _, body = list_users()
    assert body["items"] == [{"id": "user-00", "name": "User 0", "created_at": "2026-01-01T00:00:00Z"}]


def test_cursor_pages_through_every_profile_once(database):
    seed(database, 25)
    seen, cursor = [], None
    while True:
        query = {"limit": "7"} | ({"cursor": cursor} if cursor else {})
        status, _, body = list_users(query)
        assert status == 200 and len(body["items"]) <= 7
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"user-{index:02}" for index in reversed(range(25))]


def test_page_of_exactly_limit_items_has_no_next_cursor(database):
    seed(database, 5)
    assert list_users({"limit": "5"})[2]["next_cursor"] is None


def test_http_api_list_uses_the_raw_query_string(database):
    seed(database, 3)
    _, _, body = list_users({"limit": "2"}, build=http_event, authorizer=http_lambda_authorizer())
    assert len(body["items"]) == 2 and body["next_cursor"]


def test_empty_collection_lists_nothing(database):
    assert list_users()[2] == {"items": [], "next_cursor": None}


def test_default_limit_is_20(database):
    seed(database, 21)
    assert len(list_users()[2]["items"]) == 20


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", "", "٣"])
def test_bad_limit_is_400(database, limit):
    status, _, problem = list_users({"limit": limit})
    assert status == 400 and problem["parameter"] == "limit"


@pytest.mark.parametrize(
    "cursor",
    ["", "!!!", "bm90IGpzb24", "W10", "eyJhIjoxfQ", "x" * 500, encode_cursor(START), encode_cursor(START, "a", "b")],
)
def test_bad_cursor_is_400(database, cursor):
    status, _, problem = list_users({"cursor": cursor})
    assert status == 400 and problem["parameter"] == "cursor"


def a_real_cursor(database) -> str:
    seed(database, 3)
    return list_users({"limit": "1"})[2]["next_cursor"]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda cursor: "@@@" + cursor,
        lambda cursor: cursor + "@@@",
        lambda cursor: cursor + "==",
        lambda cursor: cursor[:5] + "." + cursor[5:],
        lambda cursor: cursor[:-1],
    ],
)
def test_a_cursor_with_anything_around_or_inside_it_is_400(database, spoil):
    status, _, problem = list_users({"cursor": spoil(a_real_cursor(database))})
    assert status == 400 and problem["parameter"] == "cursor"


def test_a_cursor_in_the_standard_base64_alphabet_is_400(database):
    cursor = encode_cursor(START, "ü?>~")  # its URL-safe encoding holds - or _
    assert "-" in cursor or "_" in cursor
    standard = cursor.replace("-", "+").replace("_", "/")
    status, _, problem = list_users({"cursor": standard})
    assert status == 400 and problem["parameter"] == "cursor"


def test_a_limit_of_thousands_of_digits_is_400(database):
    status, _, problem = list_users({"limit": "1" * 5000})
    assert status == 400 and problem["parameter"] == "limit"


def test_list_order_has_a_matching_index(database):
    from tools.indexes import create_indexes

    create_indexes(database)
    keys = [info["key"] for info in database.profiles.index_information().values()]
    assert profiles.LIST_ORDER in keys


def test_list_query_is_an_index_scan_on_mongodb(database):
    from tools.indexes import create_indexes

    if "ferretdbVersion" in database.client.server_info():
        pytest.skip("FerretDB's SQLite backend plans no index scans; this runs against mongod (TEST_MONGODB_URI)")
    seed(database, 30)
    create_indexes(database)
    after = {"$or": [{"created_at": {"$lt": START}}, {"created_at": START, "_id": {"$lt": "user-01"}}]}
    plan = database.profiles.find(after).sort(profiles.LIST_ORDER).limit(5).explain()["queryPlanner"]["winningPlan"]
    assert "IXSCAN" in str(plan) and "COLLSCAN" not in str(plan)


def test_zero_cache_ttl_reads_the_database_every_time(database, environment, mongo_uri):
    environment(MONGODB_URI=mongo_uri, MONGODB_DATABASE=database.name, USERS_CACHE_TTL_SECONDS="0")
    seed(database, 1)
    _, headers, _ = get_user("user-00")
    database.profiles.update_one({"_id": "user-00"}, {"$set": {"name": "Renamed"}})
    assert get_user("user-00")[2]["name"] == "Renamed"
    assert headers["cache-control"] == "private, max-age=0"
