"""The local database server: its listeners, its write gate, its wire-protocol edges and its command line.

These run the local server whatever ``TEST_MONGODB_URI`` says: they test the
server itself, not the project's code on top of it.
"""

import ipaddress
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections import namedtuple

import bson
import pytest
from cryptography import x509
from pymongo import CursorType, IndexModel, MongoClient
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError
from pymongo.write_concern import WriteConcern

from tools import localdb, localtls, loopback
from tools.soak import direct

Server = namedtuple("Server", "port tls_port ungated_port ca_file log_file")
OP_MSG, OP_COMPRESSED = 2013, 2012


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own with plain, TLS and ungated listeners, and the CA that signed its certificate."""
    directory = tmp_path_factory.mktemp("localdb")
    files = localtls.generate(directory / "certs")
    ports = [loopback.free_port() for _ in range(3)]
    tls = localdb.TLSListener(ports[1], files.cert_file, files.key_file)
    log_file = directory / "server.log"
    with open(log_file, "wb") as log:
        process = localdb.start(ports[0], directory / "data", log_file=log, tls=tls, ungated_port=ports[2])
        yield Server(ports[0], ports[1], ports[2], files.ca_file, log_file)
        localdb.stop(process)


def plain_client(server: Server, **options) -> MongoClient:
    return MongoClient(f"mongodb://127.0.0.1:{server.port}/", serverSelectionTimeoutMS=3000, **options)


def tls_client(server: Server, host: str = "127.0.0.1", **options) -> MongoClient:
    return MongoClient(
        f"mongodb://{host}:{server.tls_port}/",
        tls=True,
        tlsCAFile=str(server.ca_file),
        serverSelectionTimeoutMS=3000,
        **options,
    )


def op_msg(document: dict, request_id: int = 1, flags: int = 0) -> bytes:
    """An OP_MSG request with one body section, as a driver sends it."""
    body = struct.pack("<I", flags) + b"\x00" + bson.encode(document)
    return struct.pack("<iiii", 16 + len(body), request_id, 0, OP_MSG) + body


def eventually(check, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


# TLS


def test_tls_client_that_trusts_the_ca_reads_and_writes(server):
    with tls_client(server) as client:
        client.tls_test.items.insert_one({"_id": 1, "n": 1})
        assert client.tls_test.items.find_one({"_id": 1}) == {"_id": 1, "n": 1}


def test_tls_and_plain_listeners_serve_the_same_database(server):
    with tls_client(server, host="localhost") as client:
        client.shared_test.items.replace_one({"_id": "x"}, {"via": "tls"}, upsert=True)
    with plain_client(server) as client:
        assert client.shared_test.items.find_one({"_id": "x"}) == {"_id": "x", "via": "tls"}


def test_tls_client_that_does_not_trust_the_ca_is_refused(server, tmp_path):
    stranger = localtls.generate(tmp_path / "other")
    client = MongoClient(
        f"mongodb://127.0.0.1:{server.tls_port}/",
        tls=True,
        tlsCAFile=str(stranger.ca_file),
        serverSelectionTimeoutMS=1500,
    )
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


# The write gate


@pytest.mark.parametrize("method", sorted(direct.INCREMENTS))
def test_compare_and_swap_increments_are_never_lost(server, method):
    with plain_client(server, maxPoolSize=8) as client:
        race = direct.cas_race(client, method, threads=4, attempts=100)
    assert race.stored == race.acknowledged
    assert race.acknowledged < race.attempts  # the threads did race


def test_compare_and_swap_over_tls_is_gated_too(server):
    with tls_client(server, maxPoolSize=8) as client:
        race = direct.cas_race(client, "find_one_and_update", threads=4, attempts=100)
    assert race.stored == race.acknowledged


def test_the_same_race_loses_updates_on_ferretdbs_own_listener(server):
    """What the gate is for: without it, FerretDB acknowledges increments it then overwrites."""
    with MongoClient(f"mongodb://127.0.0.1:{server.ungated_port}/", maxPoolSize=8) as client:
        race = direct.cas_race(client, "find_one_and_update", threads=4, attempts=150)
    assert race.stored < race.acknowledged


def test_a_client_stopped_mid_request_does_not_hold_up_writes(server):
    request = op_msg({"insert": "items", "documents": [{"_id": "half"}], "$db": "gate_test"})
    with socket.create_connection(("127.0.0.1", server.port)) as stuck, plain_client(server) as client:
        stuck.sendall(request[: len(request) // 2])
        started = time.monotonic()
        client.gate_test.items.insert_one({"_id": "beside-half"})
        assert time.monotonic() - started < 2
        stuck.close()
        assert client.gate_test.items.find_one({"_id": "half"}) is None


def test_a_client_gone_before_its_reply_releases_the_gate(server):
    with socket.create_connection(("127.0.0.1", server.port)) as gone:
        gone.sendall(op_msg({"insert": "items", "documents": [{"_id": "gone"}], "$db": "gate_test"}))
    with plain_client(server) as client:
        assert eventually(lambda: client.gate_test.items.find_one({"_id": "gone"}) is not None)
        client.gate_test.items.insert_one({"_id": "after-gone"})


# createIndexes with indexes that exist, as MongoDB answers it


def index_models(count: int) -> list[IndexModel]:
    return [IndexModel(field) for field in "abc"[:count]]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_creating_the_same_indexes_twice_succeeds_and_changes_nothing(server, count):
    with plain_client(server) as client:
        collection = client.index_test[f"twice_{count}"]
        first = collection.create_indexes(index_models(count))
        second = collection.create_indexes(index_models(count))
        assert first == second == [f"{field}_1" for field in "abc"[:count]]
        assert len(list(collection.list_indexes())) == count + 1


@pytest.mark.parametrize("count", [1, 2, 3])
def test_existing_indexes_get_mongodbs_all_indexes_already_exist_reply(server, count):
    specs = [model.document for model in index_models(count)]
    with plain_client(server) as client:
        client.index_test.command("createIndexes", f"reply_{count}", indexes=specs)
        reply = client.index_test.command("createIndexes", f"reply_{count}", indexes=specs)
    assert reply == {
        "numIndexesBefore": count + 1,
        "numIndexesAfter": count + 1,
        "note": "all indexes already exist",
        "ok": 1.0,
    }


def test_only_the_new_indexes_of_a_request_are_created(server):
    specs = [model.document for model in index_models(3)]
    with plain_client(server) as client:
        client.index_test.command("createIndexes", "mixed", indexes=[specs[0], specs[2]])
        reply = client.index_test.command("createIndexes", "mixed", indexes=specs)
        names = sorted(index["name"] for index in client.index_test.mixed.list_indexes())
    assert reply == {"numIndexesBefore": 3, "numIndexesAfter": 4, "createdCollectionAutomatically": False, "ok": 1.0}
    assert names == ["_id_", "a_1", "b_1", "c_1"]


@pytest.mark.parametrize(
    ("spec", "code_name"),
    [
        ({"key": {"z": 1}, "name": "a_1"}, "IndexKeySpecsConflict"),
        ({"key": {"a": 1}, "name": "a_1", "unique": True}, "IndexOptionsConflict"),
        ({"key": {"a": 1}, "name": "a_other"}, "IndexOptionsConflict"),
    ],
    ids=["same-name-other-key", "same-name-other-options", "same-key-other-name"],
)
def test_a_request_that_conflicts_with_an_existing_index_fails_and_creates_nothing(server, spec, code_name):
    with plain_client(server) as client:
        collection = client.index_test[f"conflict_{code_name}_{spec['name']}"]
        collection.create_indexes(index_models(2))
        with pytest.raises(OperationFailure) as failure:
            new_index = {"key": {"n": 1}, "name": "n_1"}
            client.index_test.command("createIndexes", collection.name, indexes=[new_index, spec])
        names = sorted(index["name"] for index in collection.list_indexes())
    assert failure.value.details["codeName"] == code_name
    assert names == ["_id_", "a_1", "b_1"]


# Wire-protocol edges


def test_unacknowledged_write_gets_no_reply_so_the_next_request_gets_its_own(server):
    """w=0 sends OP_MSG with moreToCome; FerretDB v1 answers it anyway, and the gate drops that answer."""
    with plain_client(server, maxPoolSize=1) as client:
        items = client.wire_test.unacknowledged
        items.with_options(write_concern=WriteConcern(w=0)).insert_one({"_id": 1})
        assert eventually(lambda: items.find_one({"_id": 1}) == {"_id": 1})


def test_exhaust_cursor_returns_every_batch(server):
    with plain_client(server, maxPoolSize=1) as client:
        items = client.wire_test.exhaust
        items.insert_many([{"_id": index} for index in range(10)])
        assert [doc["_id"] for doc in items.find(cursor_type=CursorType.EXHAUST, batch_size=3)] == list(range(10))


def test_compression_is_never_negotiated(server):
    with plain_client(server, compressors="zlib") as client:
        assert "compression" not in client.admin.command("hello")
        client.wire_test.compressed.insert_one({"_id": 1})


def test_compressed_message_closes_only_that_connection(server):
    payload = struct.pack("<iiB", OP_MSG, 5, 0) + b"\x00" * 5
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(struct.pack("<iiii", 16 + len(payload), 1, 0, OP_COMPRESSED) + payload)
        assert sock.recv(16) == b""
    with plain_client(server) as client:
        assert client.admin.command("ping")["ok"] == 1


# The command line


def run_binary(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(localdb.build()), *arguments], capture_output=True, text=True, timeout=30)


def test_binary_refuses_tls_without_a_certificate_in_one_line(tmp_path):
    result = run_binary("-data", str(tmp_path), "-tls-listen", "127.0.0.1:0")
    assert result.returncode == 1
    assert result.stderr == "localdb: -tls-listen needs -tls-cert and -tls-key\n"


def test_binary_on_a_busy_port_fails_in_one_line(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run_binary("-data", str(tmp_path), "-listen", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.startswith(f"localdb: cannot listen on 127.0.0.1:{port}:")
    assert result.stderr.count("\n") == 1


def serve(port: int, data_dir) -> subprocess.Popen:
    """``python -m tools.localdb serve`` in a session of its own, so that a failed test can kill it whole."""
    command = [sys.executable, "-m", "tools.localdb", "serve", "--port", str(port), "--data", str(data_dir)]
    return subprocess.Popen(
        command, cwd=localdb.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def finish(process: subprocess.Popen) -> tuple[str, str]:
    try:
        return process.communicate(timeout=60)  # a loaded machine slows the server's stop, not its outcome
    except subprocess.TimeoutExpired as exc:
        # Which of the session's processes outlived the signal, and in what state: what a rare hang needs to be read.
        left = subprocess.run(
            ["ps", "-o", "pid,ppid,stat,wchan:24,etime,args", "-g", str(process.pid)], capture_output=True, text=True
        ).stdout
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError(f"still running 60 s after the signal:\n{left}") from exc


def test_serve_on_a_busy_port_prints_one_line_and_no_banner(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        process = serve(busy.getsockname()[1], tmp_path)
        stdout, stderr = finish(process)
    assert process.returncode == 1 and stdout == ""
    assert stderr.count("\n") == 1 and "already in use" in stderr


def test_serve_prints_its_banner_once_it_listens_and_stops_on_ctrl_c(tmp_path):
    port = loopback.free_port()
    process = serve(port, tmp_path)
    try:
        banner = process.stdout.readline()
        assert banner.startswith(f"make db: mongodb://127.0.0.1:{port}/")
        assert loopback.listening(port)
    finally:
        process.send_signal(signal.SIGINT)
        finish(process)
    assert process.returncode == 0


def process_group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize(
    ("command", "status"),
    [
        (["make", "-s", "-o", ".venv/.installed", "db"], -signal.SIGTERM),  # make passes it on, then dies of it
        ([sys.executable, "-m", "tools.localdb", "serve"], 0),
    ],
    ids=["make-db", "tools.localdb-serve"],
)
def test_sigterm_stops_the_server_and_leaves_no_process(tmp_path, command, status):
    port = loopback.free_port()
    env = {**os.environ, "DB_PORT": str(port), "DB_DATA": str(tmp_path)}
    process = subprocess.Popen(
        command,
        cwd=localdb.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout.readline().startswith(f"make db: mongodb://127.0.0.1:{port}/ (data in {tmp_path})")
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    assert process.returncode == status
    assert eventually(lambda: process_group_is_gone(process.pid))
    assert not loopback.listening(port)
