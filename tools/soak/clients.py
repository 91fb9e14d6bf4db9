"""The soak's HTTP clients: GET /me, then PATCH /me with If-Match, over and over, each request time-bounded."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid

from tools.soak.ledger import ERROR, OK, TIMEOUT, UNAVAILABLE, Answer, Ledger

BACKOFF_SECONDS = 0.2  # after a timeout or a connection error
MAX_RETRY_AFTER_SECONDS = 1.0


class ApiClient:
    """One keep-alive connection to the gateway for one token; reconnects after a failure."""

    def __init__(self, port: int, token: str, timeout: float) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.token = token

    def call(self, method: str, body: dict | None = None, if_match: str | None = None):
        """(outcome, headers, decoded body): outcome is the status code as text, TIMEOUT or ERROR."""
        headers = {"Authorization": f"Bearer {self.token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if if_match:
            headers["If-Match"] = if_match
        try:
            self.connection.request(method, "/me", body=payload, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except TimeoutError:
            self.connection.close()
            return TIMEOUT, {}, None
        except (OSError, http.client.HTTPException):
            self.connection.close()
            return ERROR, {}, None
        decoded = json.loads(data) if data and response.status == 200 else None
        return str(response.status), {name.lower(): value for name, value in response.getheaders()}, decoded

    def close(self) -> None:
        self.connection.close()


def pause_after(outcome: str, headers: dict) -> None:
    """Back off as a polite client would: Retry-After on 503, a moment after a network failure."""
    if outcome == UNAVAILABLE:
        time.sleep(min(float(headers.get("retry-after", "1")), MAX_RETRY_AFTER_SECONDS))
    elif outcome in (TIMEOUT, ERROR):
        time.sleep(BACKOFF_SECONDS)


class ReadModifyWrite(threading.Thread):
    """Increments ``preferences.n`` of its token's profile until ``deadline`` (time.monotonic)."""

    def __init__(self, client: ApiClient, profile: str, ledger: Ledger, started: float, deadline: float) -> None:
        super().__init__(name=f"client-{profile}", daemon=True)
        self.client, self.profile, self.ledger = client, profile, ledger
        self.started, self.deadline = started, deadline

    def timed(self, kind: str, *arguments, **options):
        sent = time.monotonic()
        outcome, headers, body = self.client.call(kind, *arguments, **options)
        return Answer(kind, outcome, sent - self.started, time.monotonic() - self.started), headers, body

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                self.step()
        finally:
            self.client.close()

    def step(self) -> None:
        answer, headers, profile = self.timed("GET")
        preferences = (profile or {}).get("preferences", {})
        self.ledger.read(answer, self.profile, preferences.get("op"))
        if answer.outcome != OK:
            pause_after(answer.outcome, headers)
            return
        token = uuid.uuid4().hex
        change = {"preferences": {"n": preferences.get("n", 0) + 1, "op": token}}
        answer, headers, _ = self.timed("PATCH", change, if_match=headers["etag"])
        self.ledger.wrote(answer, self.profile, token)
        pause_after(answer.outcome, headers)
