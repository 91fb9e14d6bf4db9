"""docs/tutorial.md, replayed: its files written and its commands run in a copy of the repository.

The tutorial marks each step it takes with an HTML comment the rendered page does not show:

- ``<!-- replay: write PATH -->`` before a code block: write the block to PATH;
- ``<!-- replay: run -->`` before a ``sh`` block: run each of its lines, each must succeed.

The copy holds the files of the working tree that git tracks or would track (new files included, ignored
ones not), with this checkout's ``.venv`` and ``.local``; its commands use the test session's database
server, so nothing outside the copy changes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
STEP = re.compile(
    r"^<!-- replay: (?P<action>.+?) -->\n(?:\n*```(?P<language>\w*)\n(?P<block>.*?)\n```$)?", re.MULTILINE | re.DOTALL
)


def steps(text: str) -> list[tuple[str, str]]:
    """``[(action, block)]`` in the tutorial's order (block is "" for a step without one)."""
    return [(found.group("action"), found.group("block") or "") for found in STEP.finditer(text)]


def copy_of_the_repository(target: Path) -> Path:
    """The tracked and new files of the working tree under ``target``, with .venv and .local reachable."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for shared in (".venv", ".local"):
        (target / shared).symlink_to((ROOT / shared).resolve(), target_is_directory=True)
    installed = (ROOT / ".venv" / ".installed").stat().st_mtime
    for requirements in target.glob("requirements*.txt"):  # the venv is set up: make must not redo it
        os.utime(requirements, (installed - 1, installed - 1))
    return target


def run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``command`` in ``cwd`` as a person types it: not as a sub-make of the make running the tests, whose flags
    would make it print its directory."""
    env = {name: value for name, value in env.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def test_the_tutorial_marks_its_steps():
    actions = [action.split()[0] for action, _ in steps(TUTORIAL.read_text(encoding="utf-8"))]
    assert actions[0] == "write" and actions.count("run") >= 3


@pytest.mark.slow
def test_the_tutorial_builds_its_resource_on_a_copy_of_the_repository(tmp_path, mongo_uri):
    repository = copy_of_the_repository(tmp_path / "repository")
    address = urlsplit(mongo_uri)
    env = {name: value for name, value in os.environ.items() if name not in ("MONGODB_URI", "MONGODB_DATABASE")}
    env.update(
        TEST_MONGODB_URI=mongo_uri, MONGODB_DATABASE=f"tutorial_{uuid.uuid4().hex[:8]}", PYTHONDONTWRITEBYTECODE="1"
    )
    if address.hostname in ("127.0.0.1", "localhost") and address.port:
        env["DB_PORT"] = str(address.port)  # make indexes and make invoke use the server already listening
    else:
        env["MONGODB_URI"] = mongo_uri
    output, ran = "", []
    for action, block in steps(TUTORIAL.read_text(encoding="utf-8")):
        if action.startswith("write "):
            path = repository / action.removeprefix("write ").strip()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block + "\n", encoding="utf-8")
        elif action.startswith("run"):
            commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
            for command in commands:
                result = run(command, repository, env)
                output = result.stdout + result.stderr
                assert result.returncode == 0, f"{command}:\n{output[-3000:]}"
            ran.append(commands)
        else:
            pytest.fail(f"the tutorial marks a step this test does not know: {action!r}")
    everything = [command for commands in ran for command in commands]
    assert "make lint" in everything and any("tests/test_events.py" in command for command in everything)
    assert re.search(r"^8 passed", output, re.MULTILINE), output  # the new routes' eight events, last
    assert not (ROOT / "handlers" / "notes.py").exists()
