"""Cold starts: a fresh interpreter per sample, timed from process start to the first response.

Each sample runs :mod:`bench.coldstart` in a new process. Its time splits into
interpreter start (spawn to the script's first line), import and init (the
handler's module and everything it loads) and first invocation. Samples of
all subjects alternate, round after round, so drift on a shared machine hits
all of them alike.

Bytecode: Lambda artifacts carry compiled ``.pyc`` files, so every subject
runs with them present. They live in a private cache (``PYTHONPYCACHEPREFIX``)
filled by one untimed run of each subject; timed runs write nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.subjects import Subject

ROOT = Path(__file__).resolve().parent.parent
COLDSTART = ROOT / "bench" / "coldstart.py"
TIMEOUT_SECONDS = 60


class ColdStartError(RuntimeError):
    """A cold-start process failed, or its first response was an error."""


@dataclass(frozen=True)
class ColdSample:
    interpreter_ms: float
    import_ms: float
    invoke_ms: float
    max_rss_kb: int
    status: str
    drivers: tuple[str, ...]

    @property
    def total_ms(self) -> float:
        """Process start to first response, without the harness's own steps in between."""
        return self.interpreter_ms + self.import_ms + self.invoke_ms


def child_environment(subject: Subject, pycache: Path, write_bytecode: bool) -> dict[str, str]:
    env = {**os.environ, **subject.env, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(pycache),
           "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def parse_report(stdout: str) -> dict | None:
    """The ``BENCH {json}`` line a cold-start process printed last, or None."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH "):])
    return None


def sample(subject: Subject, event_file: Path | None, pycache: Path, write_bytecode: bool = False) -> ColdSample:
    """One cold start of ``subject`` answering the event in ``event_file``."""
    command = [sys.executable, str(COLDSTART), subject.handler, str(event_file or "-")]
    env = child_environment(subject, pycache, write_bytecode)
    spawned_ns = time.monotonic_ns()
    try:
        completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise ColdStartError(f"{subject.key}: no answer within {TIMEOUT_SECONDS} s") from None
    report = parse_report(completed.stdout)
    if report is None:
        failure = f"exited {completed.returncode} without a report"
        raise ColdStartError(f"{subject.key}: {failure}:\n{completed.stderr[-2000:]}")
    if "error" in report:
        raise ColdStartError(f"{subject.key}: {report['error']}\n{completed.stderr[-2000:]}")
    status = report.get("status", "ok")
    if status[0] in "45" or status == "Deny":
        raise ColdStartError(f"{subject.key}: the first response was {status}\n{completed.stdout[-2000:]}")
    interpreter_ns = report["started_ns"] - spawned_ns
    import_ns = report.get("imported_ns", 0) - report.get("import_started_ns", 0)
    invoke_ns = report.get("invoked_ns", 0) - report.get("imported_ns", 0)
    return ColdSample(
        interpreter_ms=interpreter_ns / 1e6,
        import_ms=import_ns / 1e6,
        invoke_ms=invoke_ns / 1e6,
        max_rss_kb=report["max_rss_kb"],
        status=status,
        drivers=tuple(report["drivers"]),
    )


@dataclass(frozen=True)
class ColdCase:
    """A subject answering one event (or none, for the bare interpreter)."""

    subject: Subject
    event_name: str = ""
    event_file: Path | None = None

    @property
    def key(self) -> str:
        return f"{self.subject.key}@{self.event_name or '-'}"


def alternate(cases: list[ColdCase], rounds: int, pycache: Path, before_each=None, progress=None):
    """Sample every case once per round, each round starting one place later; return samples by case key.

    ``before_each(case)`` runs (untimed) before every sample; ``progress(done, total)`` after each.
    """
    samples: dict[str, list[ColdSample]] = {case.key: [] for case in cases}
    total, done = rounds * len(cases), 0
    for round_index in range(rounds):
        shift = round_index % len(cases)
        for case in cases[shift:] + cases[:shift]:
            if before_each is not None:
                before_each(case)
            samples[case.key].append(sample(case.subject, case.event_file, pycache))
            done += 1
            if progress is not None:
                progress(done, total)
    return samples
