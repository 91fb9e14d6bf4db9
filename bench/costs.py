"""Set-up costs a cold start may pay, each timed alone in fresh interpreters: CPU ms, median of N.

Each cost is a step (``measured``) after what a function has already loaded
(``before``, untimed): ``import boto3`` after pymongo is what the old secret
path added, ``import dns.resolver`` after pymongo is what a ``mongodb+srv://``
URI adds, a TLS context with the system's CA store is what every HTTPS or TLS
client pays once unless it is given a smaller bundle.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench import cpus
from bench.cold import MACHINE_VARIABLES
from bench.stats import summary

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import time
{before}
started = time.process_time_ns()
{measured}
print(time.process_time_ns() - started)
"""


def steps(ca_file: Path | None) -> list[tuple[str, str, str]]:
    """(what, before, measured) for every cost the table shows."""
    found = [
        ("import boto3, after pymongo", "import pymongo, orjson", "import boto3"),
        (
            "boto3 Secrets Manager client",
            "import pymongo, orjson, boto3",
            "boto3.client('secretsmanager', region_name='eu-west-1')",
        ),
        ("import http.client, after pymongo (shared.aws does without)", "import pymongo, orjson", "import http.client"),
        ("import dns.resolver, after pymongo (mongodb+srv://)", "import pymongo, orjson", "import dns.resolver"),
        ("TLS context, system CA store", "import ssl", "ssl.create_default_context()"),
        (
            "SigV4 signature (shared.sigv4)",
            "from shared import sigv4",
            "sigv4.sign('POST', 'h', '/', {}, b'{}', sigv4.Credentials('a', 'b', 'c'), 'eu-west-1', 'ssm')",
        ),
    ]
    if ca_file is not None:
        found.insert(
            5,
            (
                "TLS context, the run's one-CA bundle",
                "import ssl",
                f"ssl.create_default_context(cafile={str(ca_file)!r})",
            ),
        )
    return found


def _sample(before: str, measured: str) -> float:
    env = {name: value for name, value in os.environ.items() if name not in MACHINE_VARIABLES}
    env["PYTHONPATH"] = str(ROOT)
    code = PROBE.format(before=before, measured=measured)
    with cpus.measured():
        process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    stdout, _ = process.communicate(timeout=60)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, "a set-up cost probe")
    return int(stdout.strip()) / 1e6


def measure(samples: int, ca_file: Path | None = None) -> list[dict]:
    """Every step's CPU ms over ``samples`` fresh interpreters, alternating steps round after round."""
    chosen = steps(ca_file)
    values: dict[str, list[float]] = {what: [] for what, _, _ in chosen}
    for _ in range(samples):
        for what, before, measured in chosen:
            values[what].append(_sample(before, measured))
    return [{"what": what, "cpu_ms": summary(values[what])} for what, _, _ in chosen]
