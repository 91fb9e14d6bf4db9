"""The soak's bookkeeping: every request's outcome, and the verdict on the stored state.

Every PATCH writes a unique token (``preferences.op``) along with the counter,
and every GET answer shows the token of the last write. Writes are
compare-and-swap on the revision, so a write can only be overwritten by a
client that first read it: an applied write's token is therefore either the
stored one at the end or one some GET answered. That settles each ambiguous
PATCH (503, timeout, connection error: applied or not) exactly, and makes a
lost acknowledged write visible on its own.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field

OK, LOST_RACE, UNAVAILABLE, TIMEOUT, ERROR = "200", "412", "503", "timeout", "error"
AMBIGUOUS = (UNAVAILABLE, TIMEOUT, ERROR)


@dataclass
class Outage:
    """A database kill: when it died and when it listened again (seconds since the run began)."""

    killed_at: float
    up_at: float | None = None

    @property
    def duration(self) -> float:
        return (self.up_at or self.killed_at) - self.killed_at


@dataclass(frozen=True)
class Answer:
    kind: str  # "GET" or "PATCH"
    outcome: str  # OK, LOST_RACE, UNAVAILABLE, TIMEOUT, ERROR or another status code
    sent_at: float
    answered_at: float


@dataclass
class Ledger:
    """What the clients saw; thread-safe."""

    answers: list[Answer] = field(default_factory=list)
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ambiguous: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    observed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, answer: Answer, profile: str, token: str | None) -> None:
        """A GET; ``token`` is the ``preferences.op`` it showed (None before any write)."""
        with self.lock:
            self.answers.append(answer)
            if token is not None:
                self.observed[profile].add(token)

    def wrote(self, answer: Answer, profile: str, token: str) -> None:
        """A PATCH that carried ``token``."""
        with self.lock:
            self.answers.append(answer)
            if answer.outcome == OK:
                self.acknowledged[profile].add(token)
            elif answer.outcome != LOST_RACE:
                self.ambiguous[profile].add(token)


@dataclass(frozen=True)
class ProfileCheck:
    profile: str
    stored: int
    acknowledged: int
    ambiguous: int
    ambiguous_applied: int
    lost_acknowledged: int

    @property
    def lost_updates(self) -> int:
        """Increments acknowledged or applied but missing from the stored counter (negative: counted twice)."""
        return self.acknowledged + self.ambiguous_applied - self.stored

    @property
    def ok(self) -> bool:
        return self.lost_updates == 0 and self.lost_acknowledged == 0


def check_profile(ledger: Ledger, profile: str, stored: int, final_token: str | None) -> ProfileCheck:
    """Settle the profile's ambiguous writes against what was seen, and compare the counter."""
    seen = ledger.observed[profile] | ({final_token} if final_token else set())
    acknowledged, ambiguous = ledger.acknowledged[profile], ledger.ambiguous[profile]
    return ProfileCheck(
        profile, stored, len(acknowledged), len(ambiguous), len(ambiguous & seen), len(acknowledged - seen)
    )


def windows(outages: list[Outage], grace: float) -> list[tuple[float, float]]:
    """Each outage's window for failed answers: from the kill to the restart plus ``grace``, cut at the next kill."""
    ends = [(outage.up_at or outage.killed_at) + grace for outage in outages]
    for index in range(len(outages) - 1):
        ends[index] = min(ends[index], outages[index + 1].killed_at)
    return [(outage.killed_at, end) for outage, end in zip(outages, ends, strict=True)]


def misplaced_answers(answers: list[Answer], outages: list[Outage], grace: float) -> list[Answer]:
    """503s and failed requests answered outside every outage window."""
    spans = windows(outages, grace)
    return [
        answer
        for answer in answers
        if answer.outcome in AMBIGUOUS and not any(start <= answer.answered_at <= end for start, end in spans)
    ]


def tally(answers: list[Answer]) -> dict[str, Counter]:
    """Outcome counts per kind of request."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for answer in answers:
        counts[answer.kind][answer.outcome] += 1
    return counts


def unavailable_spread(answers: list[Answer], outage: Outage, window: tuple[float, float]) -> tuple[int, float, float]:
    """(503 count, first 503 after the kill, last 503 after the restart) in seconds; (0, 0, 0) without a 503."""
    start, end = window
    times = sorted(a.answered_at for a in answers if a.outcome == UNAVAILABLE and start <= a.answered_at <= end)
    if not times:
        return 0, 0.0, 0.0
    return len(times), times[0] - outage.killed_at, times[-1] - (outage.up_at or outage.killed_at)
