"""``make soak``: read-modify-write clients through the local API while the database is killed and restarted.

    python -m tools.soak [--duration 60] [--clients 12] [--profiles 6] [--workers 3] [--kills 2]
                         [--outage 2] [--timeout 10] [--ungated]

It starts its own local database (own port and data folder) and the local
gateway in front of it (``python -m tools.gateway --workers N``). Clients
with local tokens GET /me, then PATCH /me with If-Match to increment a
counter, while a killer SIGKILLs the database and restarts it on the same
port and data. At the end, with the gateway stopped, it reads the stored
profiles and checks: stored counter == acknowledged increments + ambiguous
ones that landed (see tools/soak/ledger.py), 503s and failures only within
an outage plus the client timeout, every client finished. Prints the figures;
exits 1 on a failed check. Last, it draws the dashboard's panels from the
functions' own lines of the run (``--picture``, default
results/soak-dashboard.png; see tools/soak/picture.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import MongoClient

from shared.config import ConfigError
from tools import cli, localdb
from tools.local_token import mint_local_token
from tools.soak import ledger as ledgers
from tools.soak.clients import ApiClient, ReadModifyWrite
from tools.soak.stack import Database, Gateway, Killer

DATABASE = "soak"
PICTURE = Path("results") / "soak-dashboard.png"
KNOWN_OUTCOMES = {"GET": {ledgers.OK, *ledgers.AMBIGUOUS}, "PATCH": {ledgers.OK, ledgers.LOST_RACE, *ledgers.AMBIGUOUS}}
FINISH_GRACE_SECONDS = 5


@dataclass(frozen=True)
class Plan:
    duration: float = 60
    clients: int = 12
    profiles: int = 6
    workers: int = 3
    kills: int = 2
    outage: float = 2
    timeout: float = 10
    ungated: bool = False
    api: str = "rest"  # or http: the HTTP API flavour of the local gateway (make serve API=http)
    picture: Path | None = None  # where to draw the dashboard's panels; None: not drawn

    def kill_times(self) -> list[float]:
        """Evenly spread over the run, each outage over well before the end."""
        return [self.duration * (index + 1) / (self.kills + 1) for index in range(self.kills)]

    def problem(self) -> str | None:
        if self.duration <= 0 or self.outage <= 0 or self.timeout <= 0:
            return "duration, outage and timeout must be positive"
        if min(self.clients, self.profiles, self.workers) < 1 or self.kills < 0:
            return "clients, profiles and workers must be at least 1, kills at least 0"
        if self.kills and self.duration / (self.kills + 1) <= self.outage + 1:
            return f"{self.kills} kill(s) of {self.outage} s do not fit in {self.duration} s"
        return None


@dataclass
class Result:
    plan: Plan
    ledger: ledgers.Ledger
    outages: list[ledgers.Outage]
    checks: list[ledgers.ProfileCheck] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def warm_up(gateway: Gateway, tokens: list[str], timeout: float) -> None:
    """Create every profile and start the workers before the clock runs (cold starts are not the subject)."""
    for token in tokens:
        client = ApiClient(gateway.port, token, timeout)
        outcome, _, _ = client.call("GET")
        client.close()
        if outcome != ledgers.OK:
            raise RuntimeError(f"warm-up GET /me answered {outcome}")


def drive(plan: Plan, database: Database, gateway: Gateway, subs: list[str], tokens: list[str]) -> Result:
    ledger = ledgers.Ledger()
    started = time.monotonic()
    deadline = started + plan.duration
    clients = [
        ReadModifyWrite(
            ApiClient(gateway.port, tokens[index % plan.profiles], plan.timeout),
            subs[index % plan.profiles],
            ledger,
            started,
            deadline,
        )
        for index in range(plan.clients)
    ]
    killer = Killer(database, started, plan.kill_times(), plan.outage)
    for thread in [*clients, killer]:
        thread.start()
    for client in clients:
        client.join(timeout=max(0.0, deadline - time.monotonic()) + plan.timeout + FINISH_GRACE_SECONDS)
    killer.join(timeout=plan.outage + localdb.START_TIMEOUT_SECONDS)
    result = Result(plan, ledger, killer.outages, stuck=[client.name for client in clients if client.is_alive()])
    if killer.failure or killer.is_alive() or len(killer.outages) != plan.kills:
        result.failures.append(killer.failure or f"{len(killer.outages)} of {plan.kills} kills done")
    return result


def settle(result: Result, database_uri: str, subs: list[str]) -> None:
    """Check the stored profiles against the ledger, and the answers against the outages."""
    with MongoClient(database_uri, serverSelectionTimeoutMS=10_000) as client:
        profiles = {doc["_id"]: doc for doc in client[DATABASE].profiles.find({"_id": {"$in": subs}})}
    for sub in subs:
        preferences = profiles.get(sub, {}).get("preferences", {})
        result.checks.append(ledgers.check_profile(result.ledger, sub, preferences.get("n", 0), preferences.get("op")))
    answers = result.ledger.answers
    failures = result.failures
    failures += [
        f"{check.profile}: {check.lost_updates} lost update(s), {check.lost_acknowledged} lost acknowledged write(s)"
        for check in result.checks
        if not check.ok
    ]
    misplaced = ledgers.misplaced_answers(answers, result.outages, result.plan.timeout)
    if misplaced:
        first = misplaced[0].answered_at
        failures.append(f"{len(misplaced)} failed answer(s) outside the outages, the first at {first:.2f} s")
    unexpected = [a for a in answers if a.outcome not in KNOWN_OUTCOMES[a.kind]]
    if unexpected:
        kinds = sorted({f"{answer.kind} {answer.outcome}" for answer in unexpected})
        failures.append(f"{len(unexpected)} unexpected answer(s): {', '.join(kinds)}")
    if result.stuck:
        failures.append(f"stuck clients: {', '.join(result.stuck)}")
    if not any(check.acknowledged for check in result.checks):
        failures.append("no write was acknowledged")


def run(plan: Plan, folder: Path) -> tuple[Result, str]:
    """One soak in ``folder``; the result and the tail of the gateway's log."""
    run_id = uuid.uuid4().hex[:8]
    subs = [f"soak-{run_id}-{index}" for index in range(plan.profiles)]
    tokens = [mint_local_token(sub, ttl=int(plan.duration) + 3600) for sub in subs]
    database = Database(folder, plan.ungated)
    try:
        gateway = Gateway(folder, database.uri, plan.workers, {"MONGODB_DATABASE": DATABASE}, plan.api)
        try:
            warm_up(gateway, tokens, plan.timeout)
            result = drive(plan, database, gateway, subs, tokens)
        finally:
            gateway.stop()  # no write is in flight once its workers are gone
        settle(result, database.uri, subs)
        return result, gateway.tail()
    finally:
        database.stop()


def draw_picture(plan: Plan, gateway_log: Path) -> Path:
    """The dashboard's panels from the run's lines, at ``plan.picture``."""
    from tools import samtemplate
    from tools.soak import picture

    plan.picture.parent.mkdir(parents=True, exist_ok=True)
    run_lines = picture.read_gateway_log(gateway_log.read_text(errors="replace"))
    kills = f", {plan.kills} database kill(s)" if plan.kills else ""
    title = f"make soak: {plan.duration:g} s, {plan.clients} clients{kills} (local stand-ins for AWS's metrics)"
    return picture.draw(run_lines, samtemplate.load(), plan.picture, title)


def counts_line(kind: str, counts) -> str:
    order = ["200", "412", "503", "timeout", "error"]
    parts = [f"{name} {counts[name]}" for name in order if name in counts or name in KNOWN_OUTCOMES[kind]]
    parts += [f"{name} {count}" for name, count in sorted(counts.items()) if name not in order]
    return f"{kind:<6} {sum(counts.values()):>6} requests: " + ", ".join(parts)


def report(result: Result) -> list[str]:
    plan = result.plan
    kills = f"{plan.kills} database kill(s) of {plan.outage:g} s" if plan.kills else "no database kill"
    lines = [
        f"soak: {plan.duration:g} s, {plan.clients} clients on {plan.profiles} profiles, {plan.workers} gateway "
        f"worker(s) per function, {kills}, client timeout {plan.timeout:g} s"
        + (", WITHOUT the write gate" if plan.ungated else "")
    ]
    tallies = ledgers.tally(result.ledger.answers)
    lines += [counts_line(kind, tallies[kind]) for kind in ("GET", "PATCH")]
    spans = ledgers.windows(result.outages, plan.timeout)
    for number, (outage, span) in enumerate(zip(result.outages, spans, strict=True), 1):
        count, first, last = ledgers.unavailable_spread(result.ledger.answers, outage, span)
        spread = f"{count} x 503, {first:.2f} s after the kill to {last:+.2f} s from the restart" if count else "no 503"
        lines.append(f"outage {number}: killed at {outage.killed_at:.1f} s, down {outage.duration:.2f} s; {spread}")
    checks = result.checks
    ambiguous, applied = sum(c.ambiguous for c in checks), sum(c.ambiguous_applied for c in checks)
    acknowledged, stored = sum(c.acknowledged for c in checks), sum(c.stored for c in checks)
    slowest = max((a.answered_at - a.sent_at for a in result.ledger.answers), default=0.0)
    lines += [
        f"ambiguous PATCHes: {ambiguous}, settled: {applied} applied, {ambiguous - applied} not applied",
        f"stored increments: {stored} = {acknowledged} acknowledged + {applied} ambiguous applied"
        f" ({'equal' if stored == acknowledged + applied else 'NOT EQUAL'}) over {len(checks)} profiles",
        f"lost acknowledged writes: {sum(c.lost_acknowledged for c in checks)}, "
        f"lost updates: {sum(max(c.lost_updates, 0) for c in checks)}, "
        f"stuck clients: {len(result.stuck)}, slowest answer: {slowest:.2f} s",
    ]
    lines += [f"FAIL: {failure}" for failure in result.failures] or ["PASS"]
    return lines


def parse_plan(argv: list[str] | None) -> Plan:
    defaults = Plan()
    parser = cli.Parser(prog="make soak", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=defaults.duration, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=cli.positive, default=defaults.clients)
    parser.add_argument("--profiles", type=cli.positive, default=defaults.profiles)
    parser.add_argument("--workers", type=cli.positive, default=defaults.workers, help="gateway workers per function")
    parser.add_argument("--kills", type=cli.whole_number, default=defaults.kills, help="database kills over the run")
    parser.add_argument("--outage", type=float, default=defaults.outage, help="seconds the database stays down")
    parser.add_argument("--timeout", type=float, default=defaults.timeout, help="client timeout per request, s")
    parser.add_argument("--ungated", action="store_true", help="use FerretDB's own listener, without the write gate")
    parser.add_argument("--api", choices=("rest", "http"), default=defaults.api, help="the gateway's API flavour")
    parser.add_argument("--picture", type=Path, default=PICTURE, help=f"the dashboard's PNG (default {PICTURE})")
    args = parser.parse_args(argv)
    plan = Plan(
        args.duration,
        args.clients,
        args.profiles,
        args.workers,
        args.kills,
        args.outage,
        args.timeout,
        args.ungated,
        args.api,
        args.picture,
    )
    if problem := plan.problem():
        parser.error(problem)
    return plan


def main(argv: list[str] | None = None) -> int:
    plan = parse_plan(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        try:
            result, gateway_log = run(plan, Path(folder))
            if plan.picture is not None:
                drawn = draw_picture(plan, Path(folder) / "gateway.log")
        except (localdb.LocalDBError, ConfigError, RuntimeError, OSError) as exc:
            print(f"soak: {exc}", file=sys.stderr)
            return 1
    print("\n".join(report(result)))
    if plan.picture is not None:
        print(f"dashboard panels of this run: {drawn}")
    if not result.passed:
        print("\nlast lines of the gateway's log:\n" + gateway_log)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
