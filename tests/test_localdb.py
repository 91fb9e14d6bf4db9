"""The local database server: its listeners, its command line, and the atomicity MongoDB promises."""

import ipaddress

import pytest
from cryptography import x509
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError

from tools import localdb, localtls, loopback


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """A server of its own with a plain and a TLS listener, and the CA that signed its certificate."""
    directory = tmp_path_factory.mktemp("localdb-tls")
    files = localtls.generate(directory / "certs")
    port, tls_port = loopback.free_port(), loopback.free_port()
    tls = localdb.TLSListener(tls_port, files.cert_file, files.key_file)
    process = localdb.start(port, directory / "data", tls=tls)
    yield port, tls_port, files
    localdb.stop(process)


def test_tls_client_that_trusts_the_ca_reads_and_writes(tls_server):
    _, tls_port, files = tls_server
    with MongoClient(f"mongodb://127.0.0.1:{tls_port}/", tls=True, tlsCAFile=str(files.ca_file)) as client:
        client.tls_test.items.insert_one({"_id": 1, "n": 1})
        assert client.tls_test.items.find_one({"_id": 1}) == {"_id": 1, "n": 1}


def test_tls_and_plain_listeners_serve_the_same_database(tls_server):
    port, tls_port, files = tls_server
    with MongoClient(f"mongodb://localhost:{tls_port}/", tls=True, tlsCAFile=str(files.ca_file)) as tls_client:
        tls_client.shared_test.items.replace_one({"_id": "x"}, {"via": "tls"}, upsert=True)
    with MongoClient(f"mongodb://127.0.0.1:{port}/") as plain_client:
        assert plain_client.shared_test.items.find_one({"_id": "x"}) == {"_id": "x", "via": "tls"}


def test_tls_client_that_does_not_trust_the_ca_is_refused(tls_server, tmp_path):
    _, tls_port, _ = tls_server
    stranger = localtls.generate(tmp_path / "other")
    client = MongoClient(f"mongodb://127.0.0.1:{tls_port}/", tls=True, tlsCAFile=str(stranger.ca_file),
                         serverSelectionTimeoutMS=1500)
    with client, pytest.raises(ServerSelectionTimeoutError, match="CERTIFICATE_VERIFY_FAILED"):
        client.admin.command("ping")


def test_generated_certificate_names_loopback_and_is_signed_by_the_ca(tmp_path):
    files = localtls.generate(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    certificate = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
    certificate.verify_directly_issued_by(ca)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert files.key_file.stat().st_mode & 0o077 == 0
