"""GET, PATCH and DELETE /me against the real database, in every payload and principal shape."""

import json

import pytest

from handlers import me
from tests.apigw import (
    ALICE,
    cognito_authorizer,
    http_event,
    http_jwt_authorizer,
    http_lambda_authorizer,
    parsed,
    rest_authorizer,
    rest_event,
)

SHAPES = {
    "rest-lambda": (rest_event, rest_authorizer),
    "rest-cognito": (rest_event, cognito_authorizer),
    "http-lambda": (http_event, http_lambda_authorizer),
    "http-jwt": (http_event, http_jwt_authorizer),
}


@pytest.fixture(params=list(SHAPES))
def call(request, database):
    """Invoke the me function as alice, in one payload version and principal shape."""
    build_event, authorizer = SHAPES[request.param]

    def invoke(method, body=None, headers=None, claims=ALICE):
        event = build_event(method, "/me", body=body, headers=headers, authorizer=authorizer(claims))
        return parsed(me.lambda_handler(event, None))

    return invoke


def test_first_get_creates_the_profile_from_the_token_claims(call, database):
    status, headers, body = call("GET")
    assert status == 200
    assert body["id"] == "alice" and body["email"] == "alice@example.com" and body["name"] == "Alice Liddell"
    assert headers["etag"].startswith('"')
    assert database.profiles.count_documents({"_id": "alice"}) == 1


def test_second_get_returns_the_same_profile(call):
    first = call("GET")
    second = call("GET")
    assert first[2] == second[2] and first[1]["etag"] == second[1]["etag"]


def test_profile_never_shows_internal_fields(call):
    _, _, body = call("GET")
    assert "_id" not in body and "revision" not in body


def test_patch_updates_whitelisted_fields(call):
    status, _, body = call("PATCH", {"bio": "Down the hole", "locale": "en-GB", "preferences": {"theme": "dark"}})
    assert status == 200
    assert (body["bio"], body["locale"], body["preferences"]) == ("Down the hole", "en-GB", {"theme": "dark"})


def test_patch_changes_the_etag(call):
    _, headers, _ = call("GET")
    _, patched_headers, _ = call("PATCH", {"bio": "new"})
    assert patched_headers["etag"] != headers["etag"]


def test_patch_null_removes_an_optional_field(call):
    call("PATCH", {"bio": "temporary"})
    _, _, body = call("PATCH", {"bio": None})
    assert "bio" not in body


def test_patch_before_any_get_creates_the_profile(call):
    status, _, body = call("PATCH", {"bio": "early"})
    assert status == 200
    assert body["name"] == "Alice Liddell" and body["bio"] == "early"


def test_patch_with_matching_if_match_succeeds(call):
    _, headers, _ = call("GET")
    status, _, body = call("PATCH", {"bio": "checked"}, headers={"If-Match": headers["etag"]})
    assert (status, body["bio"]) == (200, "checked")


def test_patch_with_stale_if_match_is_412_and_changes_nothing(call, database):
    _, headers, _ = call("GET")
    call("PATCH", {"bio": "someone else"})
    status, _, body = call("PATCH", {"bio": "mine"}, headers={"If-Match": headers["etag"]})
    assert status == 412 and body["status"] == 412
    assert database.profiles.find_one({"_id": "alice"})["bio"] == "someone else"


def test_patch_with_if_match_star_needs_an_existing_profile(call):
    assert call("PATCH", {"bio": "x"}, headers={"If-Match": "*"})[0] == 412
    call("GET")
    assert call("PATCH", {"bio": "x"}, headers={"If-Match": "*"})[0] == 200


@pytest.mark.parametrize("if_match", ["*", '"a1b2c3"', 'W/"a1b2c3"'])
@pytest.mark.parametrize("method, body", [("PATCH", {"bio": "x"}), ("DELETE", None)])
def test_if_match_on_a_missing_profile_is_412_saying_it_does_not_exist(call, database, method, body, if_match):
    status, _, problem = call(method, body, headers={"If-Match": if_match})
    assert (status, problem["type"]) == (412, "tag:bare-api,2026:problem/precondition-failed")
    assert problem["detail"].startswith("the profile does not exist")
    assert database.profiles.count_documents({}) == 0


@pytest.mark.parametrize("method, body", [("PATCH", {"bio": "mine"}), ("DELETE", None)])
def test_a_stale_if_match_is_412_saying_the_profile_changed(call, method, body):
    _, headers, _ = call("GET")
    call("PATCH", {"bio": "someone else"})
    status, _, problem = call(method, body, headers={"If-Match": headers["etag"]})
    assert status == 412 and problem["detail"].startswith("the profile changed since you read it")


def test_get_with_the_current_etag_in_if_none_match_is_304_with_the_etag(call):
    _, headers, _ = call("GET")
    status, not_modified, body = call("GET", headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, None)
    assert (not_modified["etag"], not_modified["cache-control"]) == (headers["etag"], "private, no-cache")


@pytest.mark.parametrize("if_none_match", ["W/{etag}", '"other", {etag}', "*"])
def test_if_none_match_on_me_compares_weakly_and_accepts_lists_and_star(call, if_none_match):
    _, headers, _ = call("GET")
    assert call("GET", headers={"If-None-Match": if_none_match.format(etag=headers["etag"])})[0] == 304


def test_get_with_an_old_etag_in_if_none_match_is_200(call):
    _, headers, _ = call("GET")
    call("PATCH", {"bio": "changed"})
    status, _, body = call("GET", headers={"If-None-Match": headers["etag"]})
    assert (status, body["bio"]) == (200, "changed")


def test_patch_with_weak_if_match_never_matches(call):
    _, headers, _ = call("GET")
    assert call("PATCH", {"bio": "x"}, headers={"If-Match": "W/" + headers["etag"]})[0] == 412


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "mallory@example.com"}, "email"),
        ({"$set": {"name": "x"}}, "$set"),
        ({"name.first": "x"}, "name.first"),
        ({"name": 42}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"bio": "x" * 501}, "bio"),
        ({"locale": "not a locale"}, "locale"),
        ({"timezone": "Mars/Olympus Mons"}, "timezone"),
        ({"avatar_url": "http://insecure.example.com/a.png"}, "avatar_url"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"preferences": {"$where": "1"}}, "preferences"),
        ({"preferences": {"a.b": 1}}, "preferences"),
        ({"preferences": {"nested": {"x": 1}}}, "preferences.nested"),
        ({"preferences": {"big": 1e20}}, "preferences.big"),
        ({"preferences": {f"k{i}": i for i in range(21)}}, "preferences"),
        ({"preferences": ["dark"]}, "preferences"),
    ],
)
def test_patch_refuses_bad_fields_and_changes_nothing(call, database, body, field):
    before = call("GET")[2]
    status, response_headers, problem = call("PATCH", body)
    assert status == 400
    assert response_headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/validation-failed")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert call("GET")[2] == before


@pytest.mark.parametrize("body", [[], "name", 3, {}])
def test_patch_body_must_be_a_non_empty_object(call, body):
    assert call("PATCH", body)[0] == 400


def test_patch_lists_every_bad_field_at_once(call):
    _, _, problem = call("PATCH", {"name": 1, "bio": 2, "color": "red"})
    assert sorted(error["field"] for error in problem["errors"]) == ["bio", "color", "name"]


def test_patch_with_non_json_content_type_is_415(call):
    status, _, problem = call("PATCH", "name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, problem["status"]) == (415, 415)


def test_patch_with_bad_json_is_400(call):
    status, _, problem = call("PATCH", '{"name": ', headers={"Content-Type": "application/json"})
    assert status == 400 and problem["type"].endswith("/invalid-json")


def test_patch_over_the_body_limit_is_413(call, environment, mongo_uri, database):
    environment(MAX_BODY_BYTES="64")
    status, _, _ = call("PATCH", json.dumps({"bio": "x" * 100}), headers={"Content-Type": "application/json"})
    assert status == 413


def test_delete_removes_the_profile(call, database):
    call("GET")
    status, _, body = call("DELETE")
    assert (status, body) == (204, None)
    assert database.profiles.count_documents({}) == 0


def test_delete_without_a_profile_is_still_204(call):
    assert call("DELETE")[0] == 204


def test_delete_with_stale_if_match_is_412_and_keeps_the_profile(call, database):
    _, headers, _ = call("GET")
    call("PATCH", {"bio": "changed"})
    assert call("DELETE", headers={"If-Match": headers["etag"]})[0] == 412
    assert database.profiles.count_documents({}) == 1


def test_get_after_delete_creates_a_fresh_profile(call):
    call("GET")
    call("PATCH", {"bio": "gone soon"})
    call("DELETE")
    _, _, again = call("GET")
    assert "bio" not in again


def test_missing_principal_is_401_problem(database):
    for event in (rest_event("GET", "/me"), http_event("GET", "/me")):
        status, headers, problem = parsed(me.lambda_handler(event, None))
        assert (status, problem["status"]) == (401, 401)
        assert headers["content-type"] == "application/problem+json"


def test_authorizer_without_sub_is_401(database):
    event = rest_event("GET", "/me", authorizer={"claims": {"email": "nobody@example.com"}})
    assert parsed(me.lambda_handler(event, None))[0] == 401


def test_unknown_method_on_me_is_405(database):
    status, headers, _ = parsed(me.lambda_handler(rest_event("POST", "/me", authorizer=rest_authorizer()), None))
    assert status == 405 and headers["allow"] == "DELETE, GET, OPTIONS, PATCH"


def test_a_new_handler_that_copies_the_early_start_lines_passes_the_linter():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    head = (root / "handlers" / "me.py").read_text().split("early_db.start()", 1)[0]
    source = head + (
        "early_db.start()\n\nfrom shared.router import Router\n\nrouter = Router('notes')\n\n\n"
        "def lambda_handler(event, context) -> dict:\n    return router.dispatch(event, context)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--stdin-filename", "handlers/notes.py", "-"],
        input=source,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "early_db.start()" in source
    assert result.returncode == 0, result.stdout


# Values taken from the token follow the profile's own rules before they are stored or shown


@pytest.mark.parametrize(
    "claims, name",
    [
        ({"sub": "alice", "name": "\u202egnp.exe\n" + "A" * 3000, "email": "alice@example.com"}, "alice"),
        ({"sub": "alice", "name": "     ", "email": "alice@example.com"}, "alice"),
        ({"sub": "alice", "name": "A" * 101}, "alice"),
        ({"sub": "alice", "email": "\u202eevil\x00@example.com"}, "alice"),
        ({"sub": "x" * 101, "name": "\x00"}, "user"),
        ({"sub": "alice", "name": "Al\ud800ice"}, "alice"),
    ],
    ids=["override-newline-long", "blank", "too-long", "bad-email", "nothing-usable", "lone-surrogate"],
)
def test_a_first_get_stores_only_a_name_patch_me_would_accept(call, database, claims, name):
    status, _, body = call("GET", claims=claims)
    assert (status, body["name"]) == (200, name)
    assert call("PATCH", {"name": body["name"]}, claims=claims)[0] == 200


def test_a_patch_before_any_get_also_stores_only_a_name_patch_me_would_accept(call, database):
    status, _, body = call("PATCH", {"bio": "hi"}, claims={"sub": "alice", "name": "\u202egnp.exe\n"})
    assert (status, body["name"]) == (200, "alice")


def test_an_email_claim_with_control_or_format_characters_is_not_stored(call, database):
    status, _, body = call("GET", claims={"sub": "alice", "email": "\u202eevil\x00@example.com"})
    assert status == 200 and "email" not in body
    assert "email" not in database.profiles.find_one({"_id": "alice"})


def test_an_if_match_holding_a_lone_surrogate_is_400_and_deletes_nothing(call, database):
    call("GET")
    status, _, problem = call("DELETE", headers={"If-Match": '"\ud800"'})
    assert (status, problem["status"]) == (400, 400)
    assert database.profiles.count_documents({"_id": "alice"}) == 1


# Problem documents are bounded whatever the body


def test_a_body_of_many_unknown_fields_gets_a_small_problem_listing_the_first_ones(call, database):
    body = {f"k{index:04d}": 0 for index in range(1200)}  # 14 KB, under the default body limit
    status, _, problem = call("PATCH", body)
    assert (status, len(problem["errors"]), problem["errors_omitted"]) == (400, 20, 1180)
    assert len(json.dumps(problem)) < 8192 and "and 1195 more" in problem["detail"]
