"""The floor of a function: import only its drivers and do only the one call it cannot avoid.

A function that uses ``BENCH_FLOOR_DRIVERS=orjson,pymongo`` has as its floor an
import of pymongo and orjson, a client, and a ``find_one`` by ``_id``; one that
uses jwt has an import of jwt and a ``jwt.decode`` of the event's token, checked
as the authorizer checks it; one with orjson alone serializes a small document.
The benchmark replays the same events through this handler as through the
function it stands under, cold and warm.
"""

import os

DRIVERS = set(os.environ.get("BENCH_FLOOR_DRIVERS", "orjson").split(","))
SUBJECT = "alice"

if "orjson" in DRIVERS:
    import orjson

if "pymongo" in DRIVERS:
    from pymongo import MongoClient

    profiles = MongoClient(os.environ["MONGODB_URI"])[os.environ.get("MONGODB_DATABASE", "app")]["profiles"]

if "jwt" in DRIVERS:
    import jwt

    SECRET = os.environ["JWT_SECRET"]
    # The same checks the authorizer's verifier asks of jwt.decode, and nothing else.
    DECODE_OPTIONS = {
        "algorithms": ["HS256"],
        "audience": os.environ["JWT_AUDIENCE"],
        "issuer": os.environ["JWT_ISSUER"],
        "leeway": 30,
        "options": {"require": ["exp", "iat", "sub", "iss", "aud"]},
    }


def bearer_token(event: dict) -> str:
    """The token of a TOKEN or REQUEST authorizer event."""
    header = event.get("authorizationToken") or {k.lower(): v for k, v in event["headers"].items()}["authorization"]
    return header.split(" ", 1)[-1]


def lambda_handler(event, context):
    if "pymongo" in DRIVERS:
        return profiles.find_one({"_id": SUBJECT})
    if "jwt" in DRIVERS:
        return jwt.decode(bearer_token(event), SECRET, **DECODE_OPTIONS)
    return orjson.dumps({"status": "ok"})
