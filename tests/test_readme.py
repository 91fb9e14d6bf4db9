"""The README against the code: what it shows is what the commands print and what the code does, today.

Outputs that do not change from run to run are compared with the real command,
run now: ``make help``, the developer commands' bad-input lines, the end of
``make lint`` and ``make serve``'s route table. In a README block, ``$ command``
starts a command, the lines up to the next one are its output, and a ``...``
line stands for any number of lines. make's own ``make: *** ... Error N`` line
is left out of the README and of the comparison.

The tables are compared with the code they describe (the settings' defaults and
ranges, the routes), the folder tables and module list with the repository, and
every internal link must lead to a heading or a file.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from shared import config, tokens
from tools import loopback

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
ELIDED = "..."
# The blocks compared with the commands they show, each named by its first command.
CHECKED_BLOCKS = ("make help", "make invoke EVENT=events/me.jsn", "make lint")
# What would change the commands' output: an outer make's flags, settings the README's runs do not have.
NOT_INHERITED = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MONGODB_URI", "MONGODB_DATABASE", "DB_PORT", "PORT", "EVENT",
                 "SUB", "TTL", "SCOPE", "REPEAT", "RUNTIME", "DB", "WORKERS", "LOGS", "ENV"}
MAKE_ERROR = re.compile(r"^make(\[\d+\])?: \*\*\* ")
TIME = re.compile(r"^\d\d:\d\d:\d\d ")
HEADING = re.compile(r"^(#{1,6}) (.+)$", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")
RANGE = re.compile(r"\((\d+)\.\.(\d+)")


def environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if name not in NOT_INHERITED and not name.startswith("JWT_")}


def console_blocks(text: str = README) -> list[list[str]]:
    """The lines of every ```console block."""
    return [block.split("\n") for block in re.findall(r"^```console\n(.*?)\n```$", text, re.MULTILINE | re.DOTALL)]


def block_starting(command: str) -> list[str]:
    """The console block whose first line is ``$ command``."""
    found = [block for block in console_blocks() if block[0] == f"$ {command}"]
    assert found, f"README.md has no console block starting with '$ {command}'"
    return found[0]


def sessions(block: list[str]) -> list[tuple[str, list[str]]]:
    """(command, the output lines shown for it), in order."""
    found = []
    for line in block:
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line)
    return found


def matches(shown: list[str], printed: list[str]) -> bool:
    """Whether ``printed`` is ``shown``, each ``...`` line standing for any number of lines."""
    if not shown:
        return not printed
    if shown[0] == ELIDED:
        return any(matches(shown[1:], printed[start:]) for start in range(len(printed) + 1))
    return bool(printed) and printed[0] == shown[0] and matches(shown[1:], printed[1:])


def without_make_errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if not MAKE_ERROR.match(line)]


@pytest.fixture(scope="module")
def printed() -> dict[str, list[str]]:
    """What each command of the checked blocks prints now (stdout and stderr), all run side by side."""
    commands = [command for name in CHECKED_BLOCKS for command, _ in sessions(block_starting(name))]
    running = {command: subprocess.Popen(command, shell=True, cwd=ROOT, env=environment(), text=True,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for command in commands}
    return {command: without_make_errors(process.communicate(timeout=300)[0]) for command, process in running.items()}


def assert_shown(name: str, printed: dict[str, list[str]]) -> None:
    for command, shown in sessions(block_starting(name)):
        assert matches(shown, printed[command]), f"$ {command}\nREADME shows:\n" + "\n".join(shown) + \
            "\nit prints:\n" + "\n".join(printed[command])


def test_make_help_prints_the_targets_the_readme_lists(printed):
    assert_shown("make help", printed)


def test_each_bad_input_gets_the_line_the_readme_shows(printed):
    assert_shown("make invoke EVENT=events/me.jsn", printed)


def test_make_lint_ends_as_the_readme_shows(printed):
    assert_shown("make lint", printed)


def banner(lines: list[str]) -> list[str]:
    """``make serve``'s route table and cache line, without their times."""
    untimed = [TIME.sub("", line) for line in lines if TIME.match(line)]
    return [line for line in untimed if line.startswith("  ") or " answers are cached " in line]


def serve_banner(uri: str) -> list[str]:
    """The banner ``make serve`` prints now, read until its last line; the server is stopped then."""
    env = {**environment(), "MONGODB_URI": uri, "PORT": str(loopback.free_port())}
    process = subprocess.Popen(["make", "serve"], cwd=ROOT, env=env, text=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    stop = threading.Timer(60, os.killpg, (process.pid, signal.SIGKILL))
    stop.start()
    lines = []
    try:
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if " answers are cached " in line:
                break
    finally:
        stop.cancel()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return lines


def test_make_serve_lists_the_routes_the_readme_shows(mongo_uri):
    shown = banner([line for block in console_blocks() if block[0] == "$ make serve" for line in block])
    assert shown, "README.md shows no make serve route table"
    assert banner(serve_banner(mongo_uri)) == shown


def table_after(heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading``, without its header."""
    text = README[README.index(f"\n{heading}\n"):]
    rows = re.search(r"^(\|.*\|\n)+", text, re.MULTILINE).group(0).strip().split("\n")
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


def code(cell: str) -> str | None:
    """The first `code` span of a cell, if any."""
    found = re.search(r"`([^`]*)`", cell)
    return found.group(1) if found else None


def shown_default(value) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if value not in ("", ()) else None


def assert_range(load, name: str, meaning: str) -> None:
    low, high = map(int, RANGE.search(meaning).groups())
    for accepted in (low, high):
        load({name: str(accepted)})
    for refused in (low - 1, high + 1):
        with pytest.raises(config.ConfigError, match=name):
            load({name: str(refused)})


def test_the_configuration_table_gives_every_setting_with_its_default_and_range():
    rows = {code(name): (default, meaning) for name, default, meaning in table_after("## Configuration")}
    defaults = config.load({})._asdict()
    assert sorted(rows) == sorted(field.upper() for field in defaults)
    for field, value in defaults.items():
        default, meaning = rows[field.upper()]
        assert code(default) == shown_default(value), field
        if isinstance(value, int) and not isinstance(value, bool):
            assert_range(config.load, field.upper(), meaning)


def test_the_token_variables_table_gives_every_setting_with_its_default_and_range():
    rows = {code(name): (default, meaning) for name, default, meaning in table_after("### Variables")}
    defaults = tokens.load({}, "local")._asdict()
    defaults.pop("stage")
    assert sorted(rows) == sorted(f"JWT_{field.upper()}" for field in defaults)
    for field, value in defaults.items():
        if isinstance(value, int):
            default, meaning = rows[f"JWT_{field.upper()}"]
            assert code(default) == str(value), field
            assert_range(lambda environ: tokens.load(environ, "local"), f"JWT_{field.upper()}", meaning)


def test_the_routes_table_lists_every_declared_route_and_its_module():
    from tools.checks import routes

    shown = {(code(route), code(module)) for route, module, _ in table_after("## Routes")}
    declared = {(f"{route.method} {route.path}", f"{route.module.replace('.', '/')}.py")
                for route in routes.declared_routes()}
    assert shown == declared


def folder_rows() -> dict[str, str]:
    """Every path the folder tables name, with the row that names it."""
    rows = table_after("## Architecture and folders") + table_after("What `tools/` holds:")
    return {path: row[1] for row in rows for path in re.findall(r"`([^`]+)`", row[0])}


def tracked(folder: str = "") -> set[str]:
    """The first path component of every file git tracks (under ``folder``)."""
    listed = subprocess.run(["git", "ls-files", folder or "."], cwd=ROOT, capture_output=True, text=True, check=True)
    return {Path(name).relative_to(folder or ".").parts[0] for name in listed.stdout.splitlines()}


def test_the_folder_tables_name_every_tracked_top_level_entry_and_every_tool():
    named = {path.rstrip("/") for path in folder_rows()}
    missing = {entry for entry in tracked() if not any(path == entry or path.startswith(f"{entry}/")
                                                       for path in named)}
    missing |= {f"tools/{entry}" for entry in tracked("tools") - {"__init__.py"}
                if not any(path == f"tools/{entry}" or path.startswith(f"tools/{entry}/") for path in named)}
    assert not missing, f"README.md's folder tables do not name {sorted(missing)}"
    assert not [path for path in named if not (ROOT / path).exists() and path not in (".venv", ".local")]


def test_the_shared_row_lists_every_module_of_shared():
    row = folder_rows()["shared/"]
    listed = set(re.findall(r"`([a-z0-9_]+)`", row))
    assert listed == {path.stem for path in (ROOT / "shared").glob("*.py")} - {"__init__"}


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of ``text``."""
    found, seen = set(), {}
    for _, title in HEADING.findall(re.sub(r"^```.*?^```$", "", text, flags=re.MULTILINE | re.DOTALL)):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


@pytest.mark.parametrize("page", ["README.md", "docs/benchmark.md"])
def test_every_link_leads_to_a_heading_or_a_file(page):
    path = ROOT / page
    broken = []
    for target in LINK.findall(path.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists() or (anchor and anchor not in anchors(linked.read_text())):
            broken.append(target)
    assert not broken, f"{page} links to {broken}"


def test_the_readme_links_the_page_and_the_chart_make_bench_writes():
    from bench import run

    for written in (run.DOCS_PAGE, run.README_CHART):
        assert f"]({written.relative_to(ROOT).as_posix()})" in README
