"""The documentation site: ``mkdocs build --strict`` passes, and it fails on a broken link or anchor.

``make test`` installs MkDocs (docs/requirements.txt) before it runs the suite,
as ``make docs`` does. Strict mode turns every warning into a failure: a link to
a page or file that is not in docs/, an anchor that no heading of the linked
page has, a page left out of ``nav`` (mkdocs.yml's ``validation`` settings).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "mkdocs.yml"


@pytest.fixture(scope="module", autouse=True)
def mkdocs_installed() -> None:
    assert importlib.util.find_spec("mkdocs"), (
        "MkDocs is not installed: run make test (or make docs), which installs docs/requirements.txt"
    )


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``config`` into ``site``."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


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


def material_config(page: Path) -> dict:
    """The theme settings Material for MkDocs writes into every page."""
    found = re.search(r'<script id="__config" type="application/json">(.*?)</script>', page.read_text(), re.S)
    return json.loads(found.group(1))


def test_the_site_has_search_copy_buttons_and_light_and_dark(tmp_path):
    built = build(CONFIG, tmp_path / "site")
    assert built.returncode == 0, built.stderr
    index = tmp_path / "site" / "index.html"
    assert {"content.code.copy", "search.suggest"} <= set(material_config(index)["features"])
    assert (tmp_path / "site" / "search" / "search_index.json").exists()
    schemes = re.findall(r'data-md-color-scheme="(\w+)"', index.read_text())
    assert {"default", "slate"} <= set(schemes)


def test_an_admonition_is_rendered_as_one(tmp_path):
    config = copy_of_the_docs(tmp_path)
    with (tmp_path / "docs" / "tutorial.md").open("a") as page:
        page.write('\n!!! warning "Before you deploy"\n    Run make lint.\n')
    built = build(config, tmp_path / "site")
    assert built.returncode == 0, built.stderr
    assert '<div class="admonition warning">' in (tmp_path / "site" / "tutorial" / "index.html").read_text()
