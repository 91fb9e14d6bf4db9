"""Powertools for AWS Lambda's REST API resolver with PyMongo.

The resolver routes the event, ``app.current_event`` gives the authorizer's
result, and one PyMongo client lives per container, as Powertools' docs show.
"""

import os
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

client = MongoClient(os.environ["MONGODB_URI"], tz_aware=True, serverSelectionTimeoutMS=2000)
profiles = client[os.environ.get("MONGODB_DATABASE", "app")]["profiles"]

app = APIGatewayRestResolver()

PRIVATE_FIELDS = ("email", "name", "bio", "locale", "timezone", "avatar_url", "preferences")


def current_claims() -> dict:
    authorizer = app.current_event.request_context.authorizer
    claims = authorizer.claims or authorizer.get_context()
    if not claims.get("sub"):
        raise UnauthorizedError("this route needs an authenticated caller")
    return claims


def private_view(document: dict) -> dict:
    view = {"id": document["_id"], **{field: document[field] for field in PRIVATE_FIELDS if field in document}}
    view["created_at"] = document["created_at"].isoformat()
    view["updated_at"] = document["updated_at"].isoformat()
    return view


@app.get("/health", cache_control="no-store")
def health() -> dict:
    return {"status": "ok"}


@app.get("/me", cache_control="private, no-cache")
def read_me() -> dict:
    claims = current_claims()
    document = profiles.find_one({"_id": claims["sub"]})
    if document is None:
        now = datetime.now(UTC)
        document = {
            "_id": claims["sub"],
            "email": claims.get("email"),
            "name": claims.get("name") or claims["sub"],
            "created_at": now,
            "updated_at": now,
        }
        try:
            profiles.insert_one(document)
        except DuplicateKeyError:
            document = profiles.find_one({"_id": claims["sub"]})
    return private_view(document)


def lambda_handler(event, context):
    return app.resolve(event, context)
