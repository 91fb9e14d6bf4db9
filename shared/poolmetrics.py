"""The connection pool's own events, counted for the request line's metrics.

pymongo publishes connection-pool events (the CMAP spec) to every
``ConnectionPoolListener`` given to the client; :data:`listener` counts the
ones an operator needs to see the pool at work, and :func:`take` hands the
counts since the last call to the request line (see
:func:`shared.observability.log_request`), then starts again from zero:

- ``PoolCheckoutWait``: milliseconds a request waited for a pooled connection
  (the driver's own measure of each checkout, summed);
- ``PoolConnectionsCreated``: connections the pool opened (each one a TCP and
  TLS handshake and an authentication);
- ``PoolCleared``: times the pool was cleared (a network error or a failed
  server check closed every pooled connection);
- ``PoolConnections``: connections the pool holds now (a gauge, not reset).

The monitor's own socket is not pooled and never counted here: it is one per
replica-set member, whatever the load (see tools/checks/budget.py).
"""

from __future__ import annotations

from pymongo import monitoring

from shared import observability

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pymongo.monitoring import ConnectionCheckedOutEvent, ConnectionCheckOutFailedEvent

METRICS = (
    ("PoolCheckoutWait", "Milliseconds"),
    ("PoolConnectionsCreated", "Count"),
    ("PoolCleared", "Count"),
    ("PoolConnections", "Count"),
)


class PoolCounter(monitoring.ConnectionPoolListener):
    """Counts checkout waits, created and closed connections and clears; every other event is ignored.

    One request runs at a time in a Lambda container; the monitor thread may
    clear the pool meanwhile, and an increment lost to that race costs one count.
    """

    def __init__(self) -> None:
        self.checkout_wait_ms = 0.0
        self.created = 0
        self.cleared = 0
        self.open = 0

    def take(self, fields: dict[str, object]) -> None:
        """Set the counts since the last call (and the connections open now) in the request line's ``fields``."""
        fields["PoolCheckoutWait"] = observability.milliseconds(self.checkout_wait_ms)
        fields["PoolConnectionsCreated"] = self.created
        fields["PoolCleared"] = self.cleared
        fields["PoolConnections"] = self.open
        self.checkout_wait_ms = 0.0
        self.created = self.cleared = 0

    def connection_checked_out(self, event: ConnectionCheckedOutEvent) -> None:
        self.checkout_wait_ms += (event.duration or 0.0) * 1000

    def connection_check_out_failed(self, event: ConnectionCheckOutFailedEvent) -> None:
        self.checkout_wait_ms += (event.duration or 0.0) * 1000

    def connection_created(self, event: object) -> None:
        self.created += 1
        self.open += 1

    def connection_closed(self, event: object) -> None:
        self.open -= 1

    def pool_cleared(self, event: object) -> None:
        self.cleared += 1

    # The events nobody reads: one cheap method each (pymongo calls every listener's method by name).
    def pool_created(self, event: object) -> None:
        pass

    def pool_ready(self, event: object) -> None:
        pass

    def pool_closed(self, event: object) -> None:
        pass

    def connection_ready(self, event: object) -> None:
        pass

    def connection_check_out_started(self, event: object) -> None:
        pass

    def connection_checked_in(self, event: object) -> None:
        pass


listener = PoolCounter()
observability.add_metric_source(METRICS, listener.take)
