"""Warm latency: thousands of invocations per event in long-lived processes, one per handler.

Each subject runs in its own :mod:`bench.worker` process, like a warm Lambda
container. After an untimed warm-up, the parent asks the workers in turn for
a chunk of invocations of each of their events, round after round, so that
the subjects alternate and share the machine's drift; only one runs at a time.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import cpus
from bench.cold import MACHINE_VARIABLES
from bench.replay import ReplayEvent
from bench.subjects import Subject

ROOT = Path(__file__).resolve().parent.parent
ANSWER_TIMEOUT_SECONDS = 300  # one chunk of invocations; far above what any handler here needs


class WorkerError(RuntimeError):
    """A worker died, or its handler answered with errors."""


@dataclass(frozen=True)
class WarmCase:
    """A subject answering one event, warm."""

    subject: Subject
    event: ReplayEvent

    @property
    def key(self) -> str:
        return f"{self.subject.key}@{self.event.name}"


class Worker:
    """A running :mod:`bench.worker` process for one subject."""

    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        # Unbuffered, as Lambda's runtime makes stdout: each log line is one write, as there.
        env = {name: value for name, value in os.environ.items() if name not in MACHINE_VARIABLES}
        env.update({**subject.env, "PYTHONPATH": subject.python_path, "PYTHONUNBUFFERED": "1"})
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 -- closed by close()
        with cpus.measured():
            self.process = subprocess.Popen(
                [subject.interpreter, "-m", "bench.worker", subject.handler],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                text=True,
            )
        self._answer()

    def _answer(self) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_TIMEOUT_SECONDS)
        if not ready:
            self.process.kill()
            raise WorkerError(f"{self.subject.key}: no answer within {ANSWER_TIMEOUT_SECONDS} s")
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            self.stderr.seek(0)
            raise WorkerError(f"{self.subject.key}: the worker exited:\n{self.stderr.read()[-2000:]}")
        return json.loads(line)

    def invoke(self, event: ReplayEvent, count: int) -> list[int]:
        """Invoke the handler ``count`` times with ``event``; the durations in ns. Error responses raise."""
        request = {"event": event.as_json(), "count": count, "restore_profile": event.restores_profile}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self._answer()
        failed = {status: n for status, n in answer["statuses"].items() if status[0] in "45r" or status == "Deny"}
        if failed:
            raise WorkerError(f"{self.subject.key}: {event.name} answered {failed}")
        return answer["ns"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


def alternate(cases: list[WarmCase], count: int, warmup: int, chunk: int, progress=None) -> dict[str, list[int]]:
    """``count`` timed invocations of every case after ``warmup`` untimed ones; durations (ns) by case key."""
    workers: dict[str, Worker] = {}
    try:
        for case in cases:
            if case.subject.key not in workers:
                workers[case.subject.key] = Worker(case.subject)
        for case in cases:
            workers[case.subject.key].invoke(case.event, warmup)
        durations: dict[str, list[int]] = {case.key: [] for case in cases}
        done, total = 0, count * len(cases)
        while done < total:
            for case in cases:
                remaining = count - len(durations[case.key])
                if remaining <= 0:
                    continue
                batch = workers[case.subject.key].invoke(case.event, min(chunk, remaining))
                durations[case.key] += batch
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        return durations
    finally:
        for worker in workers.values():
            worker.close()
