"""Known vulnerabilities in the locked dependencies (pip-audit), for ``make lint``.

    python -m tools.audit          # or: make lint

Audits the hash locks (``requirements.txt``, what is deployed; ``requirements-dev.txt``;
``docs/requirements.txt``) as locked, without installing anything: pip-audit asks PyPI's JSON API
for each pinned version's known vulnerabilities, so it needs network access to PyPI. Without it the
audit is one line saying it was not done, and lint goes on; a vulnerability found fails lint with one
line per vulnerability and the versions that fix it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements.txt", "requirements-dev.txt", "docs/requirements.txt", "bench/requirements.txt")
UNREACHABLE = (
    "ConnectionError",
    "Max retries exceeded",
    "Name or service not known",
    "timed out",
    "Network is unreachable",
    "Temporary failure in name resolution",
)


def findings(report: dict) -> tuple[list[str], int]:
    """One line per known vulnerability of a pip-audit JSON report, and how many distributions it could not audit."""
    lines = []
    unaudited = 0
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            unaudited += 1
        for vulnerability in dependency.get("vulns", []):
            fixed = ", ".join(vulnerability.get("fix_versions", [])) or "none yet"
            found = f"{dependency['name']} {dependency['version']}: {vulnerability['id']}"
            lines.append(f"audit: {found} (fixed in {fixed})")
    return lines, unaudited


def verdict(returncode: int, stdout: str, stderr: str) -> tuple[int, list[str]]:
    """The exit status and lines of ``make lint``'s audit, from pip-audit's exit status and output."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        if any(sign in stderr for sign in UNREACHABLE):
            return 0, ["audit: not done, PyPI's vulnerability data is unreachable (pip-audit needs network access)"]
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        return 1, [f"audit: pip-audit failed (exit {returncode}): {last}"]
    lines, unaudited = findings(report)
    if lines:
        return 1, lines
    total = len(report.get("dependencies", []))
    if unaudited:
        return 0, [
            f"audit: not done for {unaudited} of {total} locked distributions: PyPI's vulnerability data "
            f"is unreachable (pip-audit needs network access to PyPI's JSON API)"
        ]
    return 0, [f"audit: no known vulnerabilities in the {total} locked distributions"]


def main() -> int:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--disable-pip",
        "--require-hashes",
        "--format",
        "json",
        "--progress-spinner",
        "off",
    ]
    for lock in LOCKS:
        command += ["-r", str(ROOT / lock)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    status, lines = verdict(result.returncode, result.stdout, result.stderr)
    print("\n".join(lines), file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
