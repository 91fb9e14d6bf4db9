"""A throwaway certificate authority and a loopback server certificate, for TLS to local servers.

    files = generate(Path("certs"))
    MongoClient(uri, tls=True, tlsCAFile=str(files.ca_file))

Made by trustme (the test CA of urllib3, httpx and Trio): the server certificate names
IP 127.0.0.1 and DNS ``localhost`` and is signed by a fresh CA, so a client that verifies
against ``ca_file`` connects and any other client is refused. Keys are EC P-256 (fast to
make); the server certificate is valid for one day.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme

TLSFiles = namedtuple("TLSFiles", "ca_file cert_file key_file")

VALIDITY = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=5)


def generate(directory: Path) -> TLSFiles:
    """Write ``ca.pem``, ``server.pem`` and ``server-key.pem`` (owner-only) into ``directory``; return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="bare-api local CA")
    now = datetime.now(UTC)
    server = authority.issue_cert(
        "127.0.0.1", "localhost", common_name="localhost", not_before=now - CLOCK_SKEW, not_after=now + VALIDITY
    )
    files = TLSFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    authority.cert_pem.write_to_path(str(files.ca_file))
    server.cert_chain_pems[0].write_to_path(str(files.cert_file))
    files.key_file.touch(mode=0o600)
    files.key_file.chmod(0o600)
    server.private_key_pem.write_to_path(str(files.key_file))
    return files
