"""Conditional requests for any resource (shared/conditional.py): ETags from stored revisions, 304, 412 by CAS.

A small resource of its own, not the profile example: cards owned by their caller, on the real local database.
"""

import pytest

from shared import db, errors
from shared.conditional import delete, etag, if_match_revisions, none_match, read_response, update
from shared.responses import empty_response
from shared.router import Router
from shared.schema import Schema, String, merge_patch_parts
from tests.apigw import parsed, rest_authorizer, rest_event

CARD = Schema("Card", {"title": String(min_length=1, max_length=50, required=True, example="Call Bob")})
cards = Router("cards")


def card_query(request) -> dict:
    return {"_id": request.path_params["card_id"], "owner": request.principal.sub}


@cards.get("/cards/{card_id}", errors=(errors.NotFound,), conditional=True)
def read_card(request):
    card = db.collection("cards").find_one(card_query(request))
    if card is None:
        raise errors.NotFound("there is no such card")
    return read_response(request, {"title": card["title"]}, card["revision"], {"cache-control": "private, no-cache"})


@cards.patch("/cards/{card_id}", body=CARD.patch(), errors=(errors.NotFound,), conditional=True)
def update_card(request):
    to_set, _ = merge_patch_parts(request.data)
    card = update(db.collection("cards"), card_query(request), {"$set": to_set}, request, "the card")
    return read_response(request, {"title": card["title"]}, card["revision"])


@cards.delete("/cards/{card_id}", errors=(errors.NotFound,), conditional=True)
def delete_card(request):
    delete(db.collection("cards"), card_query(request), request, "the card")
    return empty_response(204)


@pytest.fixture
def call(database):
    database["cards"].insert_one({"_id": "c1", "owner": "alice", "title": "Call Bob", "revision": "r1"})

    def call(method: str, body=None, headers=None, card: str = "c1"):
        event = rest_event(method, f"/cards/{card}", body=body, headers=headers, authorizer=rest_authorizer())
        return parsed(cards.dispatch(event, None))

    return call


def test_a_read_carries_the_stored_revision_as_its_etag(call):
    status, headers, body = call("GET")
    assert (status, headers["etag"], body) == (200, '"r1"', {"title": "Call Bob"})


def test_if_none_match_with_the_current_etag_is_304_without_a_body_and_with_the_same_headers(call):
    status, headers, body = call("GET", headers={"If-None-Match": 'W/"r0", "r1"'})
    assert (status, headers["etag"], headers["cache-control"], body) == (304, '"r1"', "private, no-cache", None)


def test_a_write_stores_a_new_revision_and_answers_its_etag(call, database):
    status, headers, _ = call("PATCH", {"title": "Call Carol"}, headers={"If-Match": '"r1"'})
    stored = database["cards"].find_one({"_id": "c1"})
    assert (status, headers["etag"], stored["title"]) == (200, etag(stored["revision"]), "Call Carol")
    assert stored["revision"] != "r1"


def test_a_write_at_a_stale_revision_is_412_and_changes_nothing(call, database):
    status, _, problem = call("PATCH", {"title": "Call Carol"}, headers={"If-Match": '"r0"'})
    assert (status, problem["detail"]) == (412, "the card changed since you read it; GET it again and retry")
    assert database["cards"].find_one({"_id": "c1"})["title"] == "Call Bob"


def test_a_conditional_write_on_a_missing_document_is_412_and_an_unconditional_one_404(call):
    assert call("PATCH", {"title": "x"}, headers={"If-Match": "*"}, card="c9")[2]["detail"] == (
        "the card does not exist; If-Match needs an existing one"
    )
    assert call("PATCH", {"title": "x"}, card="c9")[0] == 404


def test_a_weak_etag_never_matches_if_match(call):
    assert call("DELETE", headers={"If-Match": 'W/"r1"'})[0] == 412


def test_a_delete_at_the_current_revision_removes_the_document(call, database):
    assert call("DELETE", headers={"If-Match": '"r1"'})[0] == 204
    assert database["cards"].count_documents({}) == 0


def test_two_writers_at_the_same_revision_one_wins_one_gets_412(call):
    first = call("PATCH", {"title": "A"}, headers={"If-Match": '"r1"'})[0]
    second = call("PATCH", {"title": "B"}, headers={"If-Match": '"r1"'})[0]
    assert (first, second) == (200, 412)


@pytest.mark.parametrize(("header", "demanded"), [(None, None), ("*", "*"), ('"a", W/"b", "c"', ["a", "c"])])
def test_if_match_names_any_revision_or_the_strong_ones(header, demanded):
    assert if_match_revisions(header) == demanded


def test_if_none_match_compares_weakly_and_star_matches_anything():
    assert none_match('W/"r1"', '"r1"') and none_match("*", '"r1"') and not none_match('"r2"', '"r1"')
