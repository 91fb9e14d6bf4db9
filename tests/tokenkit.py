"""Helpers for the token tests: claims, signing, real key pairs, a JWKS served over loopback HTTP."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared import config, secrets, tokens

ISSUER = "https://issuer.example.com/"
AUDIENCE = "bare-api"
LOCAL = {"iss": tokens.LOCAL_ISSUER, "aud": tokens.LOCAL_AUDIENCE}


def claims(**overrides) -> dict:
    """Valid claims for alice with the local issuer and audience; an override of None drops the claim."""
    now = int(time.time())
    base = {
        "sub": "alice",
        "email": "alice@example.com",
        "name": "Alice Liddell",
        "scope": "profile:read profile:write",
        "iat": now,
        "exp": now + 600,
        **LOCAL,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def b64url(data: dict | bytes) -> str:
    """base64url without padding, of ``data`` or of its JSON."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign(payload: dict, key=tokens.LOCAL_SECRET, algorithm: str = "HS256", kid: str | None = None) -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


def configure(monkeypatch, **env: str) -> None:
    """Start from no JWT_* variable and STAGE=local, apply ``env``, forget cached settings."""
    for name in list(os.environ):
        if name.startswith("JWT_") or name in ("LOCAL_AUTH", "LOG_LEVEL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STAGE", "local")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    forget()


def forget() -> None:
    config.settings.cache_clear()
    tokens.verifier.cache_clear()
    secrets.forget()


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key, kid: str, alg: str | None) -> dict:
    """The public half of ``private_key`` as a JWKS entry, as identity providers publish it."""
    algorithm = RSAAlgorithm if isinstance(private_key, rsa.RSAPrivateKey) else ECAlgorithm
    entry = {**algorithm.to_jwk(private_key.public_key(), as_dict=True), "kid": kid, "use": "sig"}
    if alg:
        entry["alg"] = alg
    return entry


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JWKSServer:
    """A JWKS served over HTTP on loopback from a thread. ``keys`` may change while it runs.

    ``requests`` counts the fetches; ``delay`` holds every answer back that many seconds.
    """

    def __init__(self, keys=(), delay: float = 0.0, host: str = "127.0.0.1") -> None:
        self.keys = list(keys)
        self.delay = delay
        self.requests = 0
        self.released = threading.Event()
        self.httpd = ThreadingHTTPServer((host, 0), self._handler())
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.httpd.server_port}/.well-known/jwks.json"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                if server.delay:
                    server.released.wait(server.delay)
                body = json.dumps({"keys": server.keys}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args) -> None:
                pass

        return Handler

    def __enter__(self) -> JWKSServer:
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
