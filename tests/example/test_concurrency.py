"""Concurrent writers through the project's own code: compare-and-swap holds, nothing is lost or applied twice.

Threads share the functions' one module-level client, as concurrent requests
in one process would. The same tests run against the local server and, with
``TEST_MONGODB_URI``, against real MongoDB. Each race is repeated enough times
that a server without single-document atomicity fails them.
"""

import threading
from functools import partial

import pytest

from handlers import me
from profiles import store as profiles
from shared import errors
from shared.principal import Principal
from tests.apigw import parsed, rest_authorizer, rest_event

THREADS = 6
INCREMENTS_PER_THREAD = 60
FIRST_GET_ROUNDS = 25
DELETE_PATCH_ROUNDS = 60
STUCK_SECONDS = 60


@pytest.fixture
def shared_client(database, environment):
    """The test's fresh database, with a pool big enough for every thread at once."""
    environment(MONGODB_MAX_POOL_SIZE=str(THREADS * 2))
    return database


def together(*functions) -> list:
    """Run the functions in threads released at the same instant; their results in order."""
    barrier = threading.Barrier(len(functions))
    results, failures = [None] * len(functions), []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=STUCK_SECONDS)
            results[index] = functions[index]()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=STUCK_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if failures:
        raise failures[0]
    return results


def call_me(method: str, sub: str, body=None, if_match: str | None = None) -> tuple[int, dict, object]:
    claims = {"sub": sub, "email": f"{sub}@example.com", "name": sub, "scope": "profile:read profile:write"}
    headers = {"If-Match": if_match} if if_match else None
    event = rest_event(method, "/me", body=body, headers=headers, authorizer=rest_authorizer(claims))
    return parsed(me.lambda_handler(event, None))


def test_compare_and_swap_increments_store_every_acknowledged_one_and_losers_get_412(shared_client):
    principal = Principal("counter", "counter@example.com", "Counter")
    profiles.get_or_create(principal)

    def increment_repeatedly() -> tuple[int, int]:
        acknowledged = refused = 0
        for _ in range(INCREMENTS_PER_THREAD):
            seen = profiles.get_or_create(principal)
            count = seen.get("preferences", {}).get("n", 0)
            try:
                profiles.update(principal, {"preferences": {"n": count + 1}}, [], [seen["revision"]])
                acknowledged += 1
            except errors.PreconditionFailed:
                refused += 1
        return acknowledged, refused

    outcomes = together(*[increment_repeatedly] * THREADS)
    acknowledged = sum(done for done, _ in outcomes)
    refused = sum(lost for _, lost in outcomes)
    stored = shared_client.profiles.find_one({"_id": "counter"})["preferences"]["n"]
    assert stored == acknowledged
    assert acknowledged + refused == THREADS * INCREMENTS_PER_THREAD
    assert refused > 0  # the threads did race


def test_concurrent_first_gets_create_one_profile_and_all_callers_get_it(shared_client):
    for round_number in range(FIRST_GET_ROUNDS):
        sub = f"newcomer-{round_number}"
        answers = together(*[partial(call_me, "GET", sub)] * THREADS)
        assert {status for status, _, _ in answers} == {200}
        assert len({(body["id"], body["created_at"]) for _, _, body in answers}) == 1
        assert len({headers["etag"] for _, headers, _ in answers}) == 1
        assert shared_client.profiles.count_documents({"_id": sub}) == 1


def test_delete_and_patch_with_the_same_if_match_never_both_apply(shared_client):
    for round_number in range(DELETE_PATCH_ROUNDS):
        sub = f"racer-{round_number}"
        etag = call_me("GET", sub)[1]["etag"]
        (patched, _, _), (deleted, _, _) = together(
            partial(call_me, "PATCH", sub, {"bio": "patched"}, if_match=etag),
            partial(call_me, "DELETE", sub, if_match=etag),
        )
        stored = shared_client.profiles.find_one({"_id": sub})
        assert (patched, deleted) in ((200, 412), (412, 204)), f"round {round_number}: {patched}, {deleted}"
        if patched == 200:
            assert stored["bio"] == "patched"
        else:
            assert stored is None
