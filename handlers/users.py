"""GET /users/{user_id} and GET /users: other callers' public profiles."""

from __future__ import annotations

from datetime import UTC, datetime

from shared import early_db

early_db.start()  # the secret fetch and the database connection start now, while the rest imports

from profiles import store
from shared import errors
from shared.cache import TTLCache
from shared.conditional import none_match
from shared.config import settings
from shared.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT
from shared.principal import MAX_SUB_LENGTH
from shared.request import Request
from shared.responses import Response, empty_response, json_response
from shared.router import Router
from shared.schema import Integer, String

router = Router("users")
# Public profiles seen recently by this container. Another container's update
# shows here after at most USERS_CACHE_TTL_SECONDS.
public_profiles = TTLCache()
# The documents the event files read, stored by `make seed` (and by `make invoke` and `make serve` on an
# empty database): events/user.json reads alice's public profile.
_SEEDED_AT = datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
SEED = {
    store.COLLECTION: [
        {
            "_id": "alice",
            "email": "alice@example.com",
            "name": "Alice",
            "bio": "Seeded.",
            "created_at": _SEEDED_AT,
            "updated_at": _SEEDED_AT,
            "revision": "5eed0a11ce01",
        }
    ]
}


def _valid_user_id(user_id: str) -> str:
    if len(user_id) > MAX_SUB_LENGTH or not user_id.isprintable():
        raise errors.InvalidParameter("user_id is not a valid user id", parameter="user_id")
    return user_id


@router.get("/users/{user_id}", errors=(errors.InvalidParameter, errors.NotFound), conditional=True)
def read_user(request: Request) -> Response:
    user_id = _valid_user_id(request.path_params["user_id"])
    ttl = settings().users_cache_ttl_seconds
    document = public_profiles.get(user_id)
    if document is None:
        document = store.find_public(user_id)
        if document is None:
            raise errors.NotFound(f"there is no user {user_id}")
        public_profiles.put(user_id, document, ttl)
    etag = store.etag(document)
    headers = {"etag": etag, "cache-control": f"private, max-age={ttl}"}
    if none_match(request.header("if-none-match"), etag):
        return empty_response(304, headers)
    return json_response(store.public_view(document), headers=headers)


PAGE = {
    "limit": Integer(minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT),
    "cursor": String(max_length=MAX_CURSOR_LENGTH, description="The `next_cursor` of the previous page, as it came."),
}


@router.get("/users", query=PAGE)
def list_users(request: Request) -> Response:
    documents, next_cursor = store.list_public(request.query_params.get("cursor"), request.query_params["limit"])
    body = {"items": [store.public_view(document) for document in documents], "next_cursor": next_cursor}
    return json_response(body, headers={"cache-control": "private, no-cache"})


def lambda_handler(event: dict[str, object], context: object) -> dict[str, object]:
    return router.dispatch(event, context)
