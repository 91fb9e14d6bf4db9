"""GET, PATCH and DELETE /me: the caller's own profile."""

from __future__ import annotations

from shared import early_db

early_db.start()  # the secret fetch and the database connection start now, while the rest imports

from profiles import store
from shared.request import Request
from shared.responses import Response, empty_response, json_response
from shared.router import Router

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from shared.schema import Schema

router = Router("me")


def _profile_response(document: dict[str, object], if_none_match: str | None = None) -> Response:
    headers = {"etag": store.etag(document), "cache-control": "private, no-cache"}
    if if_none_match is not None:
        from shared.conditional import none_match  # loaded by the first conditional request, not every cold start

        if none_match(if_none_match, headers["etag"]):
            return empty_response(304, headers)
    return json_response(store.private_view(document), headers=headers)


@router.get("/me", conditional=True)
def read_me(request: Request) -> Response:
    return _profile_response(store.get_or_create(request.principal), request.header("if-none-match"))


def profile_patch() -> Schema:
    """PATCH /me's body, a JSON Merge Patch of a profile: built by the first PATCH, not by every cold start."""
    from profiles.schema import PROFILE

    return PROFILE.patch()


@router.patch("/me", body=profile_patch, conditional=True)
def update_me(request: Request) -> Response:
    from shared.conditional import if_match_revisions
    from shared.schema import merge_patch_parts  # loaded by profile_patch already

    to_set, to_unset = merge_patch_parts(request.data)
    condition = if_match_revisions(request.header("if-match"))
    return _profile_response(store.update(request.principal, to_set, to_unset, condition))


@router.delete("/me", conditional=True)
def delete_me(request: Request) -> Response:
    from shared.conditional import if_match_revisions

    store.delete(request.principal, if_match_revisions(request.header("if-match")))
    return empty_response(204)


def lambda_handler(event: dict[str, object], context: object) -> dict[str, object]:
    return router.dispatch(event, context)
