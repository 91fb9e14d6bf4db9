"""GET /health: liveness without the database; ``?deep=true`` also pings it.

This module must not import pymongo: a shallow check stays as cheap as the
runtime itself, and the driver is loaded only for a deep check.
"""

from __future__ import annotations

from shared import errors
from shared.request import Request
from shared.responses import Response, json_response
from shared.router import Router

router = Router("health")
NO_STORE = {"cache-control": "no-store"}


@router.get("/health", public=True)
def health(request: Request) -> Response:
    deep = request.query.get("deep", "false").lower()
    if deep not in ("true", "false"):
        raise errors.InvalidParameter("deep must be true or false", parameter="deep")
    if deep == "false":
        return json_response({"status": "ok"}, headers=NO_STORE)

    from shared import db

    with db.mapped_errors():
        db.client().admin.command("ping")
    return json_response({"status": "ok", "database": "ok"}, headers=NO_STORE)


def lambda_handler(event: dict[str, object], context: object) -> dict[str, object]:
    return router.dispatch(event, context)
