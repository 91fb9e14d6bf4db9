"""Cold starts: a fresh interpreter per sample, timed from process start to the first response.

Each sample runs :mod:`bench.coldstart` in a new process. Its time splits into
interpreter start (spawn to the script's first line), import and init (the
handler's module and everything it loads) and first invocation. Samples of
all subjects alternate, round after round, so drift on a shared machine hits
all of them alike.

CPU time is the child's own (user + system, all threads) from its start to
the first response. Children see none of this machine's CA variables
(:data:`MACHINE_VARIABLES`): a Lambda process has none, and they decide how
much a TLS context costs to load.

Bytecode: Lambda artifacts carry compiled ``.pyc`` files, so every subject
runs with them present. They live in a private cache (``PYTHONPYCACHEPREFIX``)
filled by one untimed run of each subject; timed runs write nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import cpus
from bench.subjects import Subject

ROOT = Path(__file__).resolve().parent.parent
COLDSTART = ROOT / "bench" / "coldstart.py"
TIMEOUT_SECONDS = 60
MACHINE_VARIABLES = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "AWS_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
)


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
    cpu_ms: float = 0.0
    aws_sdk: tuple[str, ...] = ()
    spawned_ns: int = 0
    phases: dict = field(default_factory=dict, compare=False)

    @property
    def total_ms(self) -> float:
        """Process start to first response, without the harness's own steps in between."""
        return self.interpreter_ms + self.import_ms + self.invoke_ms


def child_environment(subject: Subject, pycache: Path, write_bytecode: bool) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in MACHINE_VARIABLES}
    env.update(
        {**subject.env, "PYTHONPATH": subject.python_path, "PYTHONPYCACHEPREFIX": str(pycache), "PYTHONUNBUFFERED": "1"}
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def parse_report(stdout: str) -> dict | None:
    """The ``BENCH {json}`` line a cold-start process printed last, or None."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    return None


def sample(subject: Subject, event_file: Path | None, pycache: Path, write_bytecode: bool = False) -> ColdSample:
    """One cold start of ``subject`` answering the event in ``event_file``."""
    command = [subject.interpreter, str(COLDSTART), subject.handler, str(event_file or "-")]
    env = child_environment(subject, pycache, write_bytecode)
    spawned_ns = time.monotonic_ns()
    with cpus.measured():
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise ColdStartError(f"{subject.key}: no answer within {TIMEOUT_SECONDS} s") from None
    report = parse_report(stdout)
    if report is None:
        failure = f"exited {process.returncode} without a report"
        raise ColdStartError(f"{subject.key}: {failure}:\n{stderr[-2000:]}")
    if "error" in report:
        raise ColdStartError(f"{subject.key}: {report['error']}\n{stderr[-2000:]}")
    status = report.get("status", "ok")
    if status[0] in "45" or status == "Deny":
        raise ColdStartError(f"{subject.key}: the first response was {status}\n{stdout[-2000:]}")
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
        cpu_ms=report.get("cpu_ns", 0) / 1e6,
        aws_sdk=tuple(report.get("aws_sdk", ())),
        spawned_ns=spawned_ns,
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


def alternate(cases: list[ColdCase], rounds: int, pycache: Path, before_each=None, progress=None, after_each=None):
    """Sample every case once per round, each round starting one place later; return samples by case key.

    ``before_each(case)`` runs (untimed) before every sample; ``after_each(case, sample)`` after it, returning
    the sample's ``phases`` (a dict); ``progress(done, total)`` after each.
    """
    samples: dict[str, list[ColdSample]] = {case.key: [] for case in cases}
    total, done = rounds * len(cases), 0
    for round_index in range(rounds):
        shift = round_index % len(cases)
        for case in cases[shift:] + cases[:shift]:
            if before_each is not None:
                before_each(case)
            taken = sample(case.subject, case.event_file, pycache)
            if after_each is not None:
                taken = replace(taken, phases=after_each(case, taken))
            samples[case.key].append(taken)
            done += 1
            if progress is not None:
                progress(done, total)
    return samples
