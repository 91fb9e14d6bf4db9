"""docs/tutorial.md, replayed: its files written and its commands run in a copy of the repository.

The tutorial marks each step it takes with an HTML comment the rendered page does not show:

- ``<!-- replay: write PATH -->`` before a code block: write the block to PATH;
- ``<!-- replay: run -->`` before a ``sh`` block: run each of its lines, each must succeed;
- ``<!-- replay: paste the template.yaml blocks the last command printed -->``: paste every block the
  last command's output offers for template.yaml right under the top-level key it names, as a person would.

The copy holds the tracked files as they are in the working tree, with this checkout's ``.venv`` and
``.local``; its commands use the test session's database server, so nothing outside the copy changes.
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
STEP = re.compile(r"^<!-- replay: (?P<action>.+?) -->\n(?:\n*```(?P<language>\w*)\n(?P<block>.*?)\n```$)?",
                  re.MULTILINE | re.DOTALL)
PASTE = re.compile(r"add to template\.yaml under (?P<key>[A-Za-z]+):$")


def steps(text: str) -> list[tuple[str, str]]:
    """``[(action, block)]`` in the tutorial's order (block is "" for a step without one)."""
    return [(found.group("action"), found.group("block") or "") for found in STEP.finditer(text)]


def copy_of_the_repository(target: Path) -> Path:
    """The tracked files of the working tree under ``target``, with .venv and .local reachable."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
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


def pasted(template: str, output: str) -> str:
    """``template`` with every block ``output`` offers for it pasted under the top-level key it names."""
    lines = output.splitlines()
    assert any(PASTE.search(line) for line in lines), f"nothing to paste in:\n{output[-3000:]}"
    for index, line in enumerate(lines):
        found = PASTE.search(line)
        if not found:
            continue
        block = []
        for following in lines[index + 1:]:
            if not following.startswith(" "):
                break
            block.append(following)
        heading = re.compile(rf"^{found.group('key')}:\n", re.MULTILINE)
        assert heading.search(template), f"template.yaml has no top-level {found.group('key')}:"
        pasting = "\n".join(block) + "\n\n"
        template = heading.sub(lambda match, pasting=pasting: match.group(0) + pasting, template, count=1)
    return template


def run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def test_the_tutorial_marks_its_steps():
    actions = [action.split()[0] for action, _ in steps(TUTORIAL.read_text(encoding="utf-8"))]
    assert actions[0] == "write" and "paste" in actions and actions.count("run") >= 3


@pytest.mark.slow
def test_the_tutorial_builds_its_resource_on_a_copy_of_the_repository(tmp_path, mongo_uri):
    repository = copy_of_the_repository(tmp_path / "repository")
    address = urlsplit(mongo_uri)
    env = {name: value for name, value in os.environ.items() if name not in ("MONGODB_URI", "MONGODB_DATABASE")}
    env.update(TEST_MONGODB_URI=mongo_uri, MONGODB_DATABASE=f"tutorial_{uuid.uuid4().hex[:8]}",
               PYTHONDONTWRITEBYTECODE="1")
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
        elif action.startswith("paste"):
            template = repository / "template.yaml"
            template.write_text(pasted(template.read_text(encoding="utf-8"), output), encoding="utf-8")
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
