"""make lint's audit of the locked dependencies: a vulnerability fails it, no network is one line that does not."""

from __future__ import annotations

import json

from tools import audit

CLEAN = {"name": "orjson", "version": "3.13.0", "vulns": []}
VULNERABLE = {
    "name": "pyjwt",
    "version": "2.15.1",
    "vulns": [{"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["2.15.2", "2.16.0"], "aliases": []}],
}
UNAUDITED = {"name": "cffi", "skip_reason": "Dependency not found on PyPI and could not be audited: cffi (2.1.1)"}


def report(*dependencies: dict) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_no_known_vulnerability_passes_with_the_count():
    assert audit.verdict(0, report(CLEAN, CLEAN), "") == (
        0,
        ["audit: no known vulnerabilities in the 2 locked distributions"],
    )


def test_a_known_vulnerability_fails_naming_it_and_the_fixed_versions():
    assert audit.verdict(1, report(CLEAN, VULNERABLE), "") == (
        1,
        ["audit: pyjwt 2.15.1: GHSA-xxxx-yyyy-zzzz (fixed in 2.15.2, 2.16.0)"],
    )


def test_a_vulnerability_found_fails_even_when_others_could_not_be_audited():
    status, lines = audit.verdict(1, report(UNAUDITED, VULNERABLE), "")
    assert status == 1 and lines == ["audit: pyjwt 2.15.1: GHSA-xxxx-yyyy-zzzz (fixed in 2.15.2, 2.16.0)"]


def test_unreachable_vulnerability_data_is_one_line_that_does_not_fail():
    status, lines = audit.verdict(0, report(UNAUDITED, CLEAN), "")
    assert status == 0 and len(lines) == 1
    assert lines[0].startswith("audit: not done for 1 of 2 locked distributions")


def test_no_network_at_all_is_one_line_that_does_not_fail():
    stderr = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org'): Max retries exceeded\n"
    assert audit.verdict(1, "", stderr) == (
        0,
        ["audit: not done, PyPI's vulnerability data is unreachable (pip-audit needs network access)"],
    )


def test_another_pip_audit_failure_fails_with_its_last_line():
    stderr = "Traceback (most recent call last):\nValueError: requirement is not pinned\n"
    assert audit.verdict(1, "", stderr) == (
        1,
        ["audit: pip-audit failed (exit 1): ValueError: requirement is not pinned"],
    )
