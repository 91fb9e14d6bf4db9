"""The documentation site: ``mkdocs build --strict`` passes, and it fails on a broken link or anchor.

``make test`` installs MkDocs (docs/requirements.txt) before it runs the suite,
as ``make docs`` does. Strict mode turns every warning into a failure: a link to
a page or file that is not in docs/, an anchor that no heading of the linked
page has, a page left out of ``nav`` (mkdocs.yml's ``validation`` settings).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "mkdocs.yml"


@pytest.fixture(scope="module", autouse=True)
def mkdocs_installed() -> None:
    assert importlib.util.find_spec("mkdocs"), \
        "MkDocs is not installed: run make test (or make docs), which installs docs/requirements.txt"


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``config`` into ``site``."""
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
                           "--site-dir", str(site)], capture_output=True, text=True, timeout=120)


def copy_of_the_docs(folder: Path) -> Path:
    """mkdocs.yml and docs/ copied into ``folder``; the copy's mkdocs.yml."""
    shutil.copytree(ROOT / "docs", folder / "docs")
    return Path(shutil.copy(CONFIG, folder / "mkdocs.yml"))


def test_the_site_builds_in_strict_mode(tmp_path):
    built = build(CONFIG, tmp_path / "site")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "tutorial" / "index.html").exists()
    assert (tmp_path / "site" / "benchmark" / "index.html").exists()


def test_every_page_of_docs_is_in_the_navigation(tmp_path):
    config = copy_of_the_docs(tmp_path)
    (tmp_path / "docs" / "orphan.md").write_text("# Orphan\n")
    built = build(config, tmp_path / "site")
    assert built.returncode != 0 and "orphan.md" in built.stderr


def test_a_link_to_a_missing_anchor_fails_the_build(tmp_path):
    config = copy_of_the_docs(tmp_path)
    with (tmp_path / "docs" / "tutorial.md").open("a") as page:
        page.write("\nSee [the gateway](local.md#no-such-heading).\n")
    built = build(config, tmp_path / "site")
    assert built.returncode != 0 and "no-such-heading" in built.stderr


def test_a_link_out_of_docs_fails_the_build(tmp_path):
    config = copy_of_the_docs(tmp_path)
    with (tmp_path / "docs" / "tutorial.md").open("a") as page:
        page.write("\nSee [the README](../README.md).\n")
    built = build(config, tmp_path / "site")
    assert built.returncode != 0 and "../README.md" in built.stderr
