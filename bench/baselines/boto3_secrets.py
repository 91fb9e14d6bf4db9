"""The secret path bare-api had before: boto3 resolves ``MONGODB_URI``'s reference, then the handler runs.

The same boto3 client, timeouts and retries the old ``shared.secrets`` made,
on the first invocation, as there; the value then stands in ``MONGODB_URI``
and ``handlers.me`` answers as it does with a plain URI. A baseline for the
benchmark only: never deployed, and nothing in ``shared/`` uses boto3.
"""

import os

FETCH_TIMEOUT_SECONDS = 1
_handler = None


def _resolve(reference: str) -> str:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=FETCH_TIMEOUT_SECONDS, read_timeout=FETCH_TIMEOUT_SECONDS, retries={"total_max_attempts": 2}
    )
    client = boto3.client("secretsmanager", region_name=reference.split(":")[3], config=config)
    return client.get_secret_value(SecretId=reference)["SecretString"]


def lambda_handler(event, context):
    global _handler
    if _handler is None:
        os.environ["MONGODB_URI"] = _resolve(os.environ["MONGODB_URI"])
        from handlers import me

        _handler = me.lambda_handler
    return _handler(event, context)
