"""The stack bare-api replaces: FastAPI + Mangum + Motor + Pydantic.

One ASGI app for every route, as FastAPI apps are deployed on Lambda through
Mangum; Pydantic models for the caller and the responses; the caller read
from the authorizer's result that Mangum puts in ``scope["aws.event"]``; one
Motor client per container. ``lifespan="off"`` because the app has no
lifespan events (Mangum would otherwise run startup and shutdown on every
invocation).
"""

import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from mangum import Mangum
from motor.motor_asyncio import AsyncIOMotorClient
from pydantic import BaseModel, Field
from pymongo.errors import DuplicateKeyError

client = AsyncIOMotorClient(os.environ["MONGODB_URI"], tz_aware=True, serverSelectionTimeoutMS=2000)
profiles = client[os.environ.get("MONGODB_DATABASE", "app")]["profiles"]

app = FastAPI(title="profiles")


class Caller(BaseModel):
    sub: str = Field(min_length=1, max_length=255)
    email: str = ""
    name: str = ""


class Health(BaseModel):
    status: str


class Profile(BaseModel):
    id: str = Field(validation_alias="_id")
    email: str | None = None
    name: str
    bio: str | None = None
    locale: str | None = None
    timezone: str | None = None
    avatar_url: str | None = None
    preferences: dict[str, str | int | float | bool] | None = None
    created_at: datetime
    updated_at: datetime


def current_caller(request: Request) -> Caller:
    """The caller named by API Gateway's authorizer result (REST or HTTP API, Lambda or JWT authorizer)."""
    authorizer = request.scope["aws.event"].get("requestContext", {}).get("authorizer") or {}
    jwt_claims = authorizer.get("jwt", {}).get("claims")
    claims = authorizer.get("lambda") or authorizer.get("claims") or jwt_claims or authorizer
    if not claims.get("sub"):
        raise HTTPException(status_code=401, detail="this route needs an authenticated caller")
    return Caller(sub=claims["sub"], email=claims.get("email", ""), name=claims.get("name", ""))


@app.get("/health")
async def health(response: Response) -> Health:
    response.headers["cache-control"] = "no-store"
    return Health(status="ok")


@app.get("/me", response_model_exclude_none=True)
async def read_me(caller: Annotated[Caller, Depends(current_caller)]) -> Profile:
    document = await profiles.find_one({"_id": caller.sub})
    if document is None:
        now = datetime.now(UTC)
        document = {
            "_id": caller.sub,
            "email": caller.email or None,
            "name": caller.name or caller.sub,
            "created_at": now,
            "updated_at": now,
        }
        try:
            await profiles.insert_one(document)
        except DuplicateKeyError:
            document = await profiles.find_one({"_id": caller.sub})
    return Profile.model_validate(document)


handler = Mangum(app, lifespan="off")
