"""``make deploy``'s warning when the database secret holds a ``mongodb+srv://`` URI.

An SRV URI costs every cold start an import of dnspython (see ``make bench``)
and two DNS queries (SRV, then TXT) before the driver can connect. Atlas also
gives each cluster's standard connection string, which names the hosts and
needs neither. This is a warning, never a refusal, and a secret that cannot be
read (no permission, another account) gives no warning rather than a failure.
"""

from __future__ import annotations

import sys

from shared import secrets

SRV_SCHEME = "mongodb+srv://"
WARNING = (
    "deploy: warning: the MONGODB_URI secret holds a mongodb+srv:// URI. Every cold start then imports dnspython "
    "and makes two DNS queries before it connects. Atlas also offers the standard connection string (Connect, "
    "Drivers, then the legacy 'mongodb://host1,host2,host3/?tls=true&replicaSet=...&authSource=admin' form): "
    "store that one instead to skip both (see README, Performance). Deploying as it is."
)


def read_secret(reference: str, session=None) -> str:
    """The value of a Secrets Manager secret or SSM parameter, by ARN, with the deploying user's credentials.

    boto3 rather than :mod:`shared.aws`: a person deploying may have only a profile or an SSO session, which
    boto3 reads and the functions' client does not. The reference is read as the functions read it.
    """
    import boto3

    call = secrets.parse(reference)
    client = (session or boto3.session.Session()).client(call.service, region_name=call.region)
    if call.service == "ssm":
        return client.get_parameter(**call.payload)["Parameter"]["Value"]
    return client.get_secret_value(**call.payload)["SecretString"]


def srv_warning(reference: str, session=None) -> str | None:
    """:data:`WARNING` when the secret ``reference`` names holds an SRV URI; None otherwise, or when unreadable."""
    if not reference:
        return None
    try:
        value = read_secret(reference, session)
    except Exception:
        return None
    return WARNING if value.strip().lower().startswith(SRV_SCHEME) else None


def warn_if_srv(reference: str, stream=None, session=None) -> None:
    """Print :func:`srv_warning`'s warning, if any, on ``stream`` (stderr)."""
    warning = srv_warning(reference, session)
    if warning:
        print(warning, file=stream or sys.stderr)
