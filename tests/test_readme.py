"""The README and docs/ against the code: what they show is what the commands print and the code does, today.

Outputs that do not change from run to run are compared with the real command,
run now: ``make help``, the developer commands' bad-input lines, the end of
``make lint`` and ``make serve``'s route table, wherever a page shows them (the
README or a page of docs/). In a ```console block, ``$ command`` starts a
command, the lines up to the next one are its output, and a ``...`` line stands
for any number of lines. make's own ``make: *** ... Error N`` line is left out
of the pages and of the comparison.

The tables are compared with the code they describe (the settings' defaults and
ranges, the routes), the folder tables and module lists with the repository,
and every relative link must lead to a file and, with an anchor, to a heading
of it as GitHub renders it (``mkdocs build --strict``, in test_docs.py, checks
the same pages as the site renders them). The README stays short: at most
about a screenful of screens, with the quick start's two commands.
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
# Every page that shows samples or tables: the README, then docs/ (docs/benchmark.md is what make bench wrote).
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 300
QUICK_START = ("make invoke EVENT=events/me.json", "make test")
ELIDED = "..."
# The blocks compared with the commands they show, each named by its first command.
CHECKED_BLOCKS = ("make help", "make invoke EVENT=events/me.jsn", "make lint")
# What would change the commands' output: an outer make's flags, settings the README's runs do not have.
NOT_INHERITED = {
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "MONGODB_URI",
    "MONGODB_DATABASE",
    "DB_PORT",
    "PORT",
    "EVENT",
    "SUB",
    "TTL",
    "SCOPE",
    "REPEAT",
    "RUNTIME",
    "DB",
    "WORKERS",
    "LOGS",
    "ENV",
}
MAKE_ERROR = re.compile(r"^make(\[\d+\])?: \*\*\* ")
TIME = re.compile(r"^\d\d:\d\d:\d\d ")
HEADING = re.compile(r"^(#{1,6}) (.+)$", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")
RANGE = re.compile(r"\((\d+)\.\.(\d+)")


def environment() -> dict[str, str]:
    return {
        name: value for name, value in os.environ.items() if name not in NOT_INHERITED and not name.startswith("JWT_")
    }


def console_blocks() -> list[list[str]]:
    """The lines of every ```console block of every page."""
    pattern = re.compile(r"^```console\n(.*?)\n```$", re.MULTILINE | re.DOTALL)
    return [block.split("\n") for page in PAGES for block in pattern.findall(page.read_text())]


def blocks_starting(command: str) -> list[list[str]]:
    """Every console block, on any page, whose first line is ``$ command``; there must be one."""
    found = [block for block in console_blocks() if block[0] == f"$ {command}"]
    assert found, f"no page (README.md, docs/) has a console block starting with '$ {command}'"
    return found


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
    commands = list(
        dict.fromkeys(
            command for name in CHECKED_BLOCKS for block in blocks_starting(name) for command, _ in sessions(block)
        )
    )
    running = {
        command: subprocess.Popen(
            command,
            shell=True,
            cwd=ROOT,
            env=environment(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for command in commands
    }
    return {command: without_make_errors(process.communicate(timeout=300)[0]) for command, process in running.items()}


def assert_shown(name: str, printed: dict[str, list[str]]) -> None:
    for block in blocks_starting(name):
        for command, shown in sessions(block):
            assert matches(shown, printed[command]), (
                f"$ {command}\nthe page shows:\n" + "\n".join(shown) + "\nit prints:\n" + "\n".join(printed[command])
            )


def test_make_help_prints_the_targets_the_pages_list(printed):
    assert_shown("make help", printed)


def test_each_bad_input_gets_the_line_the_pages_show(printed):
    assert_shown("make invoke EVENT=events/me.jsn", printed)


def test_make_lint_ends_as_the_pages_show(printed):
    assert_shown("make lint", printed)


def banner(lines: list[str]) -> list[str]:
    """``make serve``'s route table and cache line, without their times."""
    untimed = [TIME.sub("", line) for line in lines if TIME.match(line)]
    return [line for line in untimed if line.startswith("  ") or " answers are cached " in line]


def serve_banner(uri: str) -> list[str]:
    """The banner ``make serve`` prints now, read until its last line; the server is stopped then."""
    env = {**environment(), "MONGODB_URI": uri, "PORT": str(loopback.free_port())}
    process = subprocess.Popen(
        ["make", "serve"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
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


def served_by(functions: set[str], lines: list[str]) -> list[str]:
    """The banner's lines for ``functions`` and its cache line, with runs of spaces as one (widths follow the paths)."""
    return [" ".join(line.split()) for line in lines if not line.startswith("  ") or line.split()[2] in functions]


def test_make_serve_lists_the_routes_the_pages_show(mongo_uri):
    """The pages show the routes of the functions they name as the server lists them; routes of functions they do
    not name (a resource added since) may be served too, and functions the template no longer has are not checked."""
    shown = banner([line for block in console_blocks() if block[0] == "$ make serve" for line in block])
    assert shown, "no page shows a make serve route table"
    served = banner(serve_banner(mongo_uri))
    functions = {line.split()[2] for line in shown if line.startswith("  ")}
    both = functions & {line.split()[2] for line in served if line.startswith("  ")}
    assert "HealthFunction" in both
    assert served_by(both, served) == served_by(both, shown)


def table_after(page: str, heading: str) -> list[list[str]]:
    """The cells of the first table after the line ``heading`` of ``page``, without the table's header."""
    text = "\n" + (ROOT / page).read_text()
    text = text[text.index(f"\n{heading}\n") :]
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
    table = table_after("docs/configuration.md", "# Configuration")
    rows = {code(name): (default, meaning) for name, default, meaning in table}
    defaults = config.load({}).as_dict()
    assert sorted(rows) == sorted(field.upper() for field in defaults)
    for field, value in defaults.items():
        default, meaning = rows[field.upper()]
        assert code(default) == shown_default(value), field
        if isinstance(value, int) and not isinstance(value, bool):
            assert_range(config.load, field.upper(), meaning)


def test_the_token_variables_table_gives_every_setting_with_its_default_and_range():
    table = table_after("docs/authentication.md", "## Variables")
    rows = {code(name): (default, meaning) for name, default, meaning in table}
    defaults = tokens.load({}, "local")._asdict()
    defaults.pop("stage")
    assert sorted(rows) == sorted(f"JWT_{field.upper()}" for field in defaults)
    for field, value in defaults.items():
        if isinstance(value, int):
            default, meaning = rows[f"JWT_{field.upper()}"]
            assert code(default) == str(value), field
            assert_range(lambda environ: tokens.load(environ, "local"), f"JWT_{field.upper()}", meaning)


def test_the_routes_table_lists_every_declared_route_of_the_modules_it_names():
    """Each module the table names that exists is listed with exactly its routes; a module added since need not be
    listed, and the rows of a module that is gone (the example, removed) are not checked."""
    from tools.checks import routes

    shown = {(code(route), code(module)) for route, module, _ in table_after("README.md", "## Routes")}
    modules = {module for _, module in shown if (ROOT / module).exists()}
    declared = {
        (f"{route.method} {route.path}", f"{route.module.replace('.', '/')}.py") for route in routes.declared_routes()
    }
    assert "handlers/health.py" in modules
    assert {row for row in shown if row[1] in modules} == {row for row in declared if row[1] in modules}


ARCHITECTURE = "docs/architecture.md"


def example_files() -> set[str]:
    """The files the profile example's row of Where things live names (removing the example removes them)."""
    return {
        path
        for part, cell in table_after(ARCHITECTURE, "## Where things live")
        if part == "the profile example"
        for path in re.findall(r"`([a-z0-9_/]+\.py)`", cell)
    }


def folder_rows() -> dict[str, str]:
    """Every path the folder tables name, with the row that names it."""
    rows = table_after(ARCHITECTURE, "## Folders") + table_after(ARCHITECTURE, "What `tools/` holds:")
    return {path: row[1] for row in rows for path in re.findall(r"`([^`]+)`", row[0])}


def tracked(folder: str = "") -> set[str]:
    """The first path component of every file git tracks (under ``folder``)."""
    listed = subprocess.run(["git", "ls-files", folder or "."], cwd=ROOT, capture_output=True, text=True, check=True)
    return {Path(name).relative_to(folder or ".").parts[0] for name in listed.stdout.splitlines()}


def resource_packages() -> set[str]:
    """Top-level packages of the API's own resources (a resource's store, say): the folder tables name the
    toolkit's and the example's folders, not what a project adds beside its handler modules."""
    return set(deployed_packages()) - {"shared", "handlers"}


def test_the_folder_tables_name_every_tracked_top_level_entry_and_every_tool():
    named = {path.rstrip("/") for path in folder_rows()}
    missing = {
        entry
        for entry in tracked() - resource_packages()
        if not any(path == entry or path.startswith(f"{entry}/") for path in named)
    }
    missing |= {
        f"tools/{entry}"
        for entry in tracked("tools") - {"__init__.py"}
        if not any(path == f"tools/{entry}" or path.startswith(f"tools/{entry}/") for path in named)
    }
    assert not missing, f"{ARCHITECTURE}'s folder tables do not name {sorted(missing)}"
    gone = [path for path in named if not (ROOT / path).exists() and path not in (".venv", ".local")]
    assert not [path for path in gone if not any(file.startswith(f"{path}/") for file in example_files())]


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


@pytest.mark.parametrize("page", [path.relative_to(ROOT).as_posix() for path in PAGES])
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


def test_the_performance_page_shows_the_page_and_the_chart_make_bench_writes():
    from bench import run

    performance = ROOT / "docs" / "performance.md"
    for written in (run.DOCS_PAGE, run.CHART_COPY):
        assert f"]({Path(os.path.relpath(written, performance.parent)).as_posix()})" in performance.read_text()
    assert f"]({run.DOCS_PAGE.relative_to(ROOT).as_posix()})" in README


def deployed_packages() -> list[str]:
    """The project's top-level packages that functions import: all but the tools, the tests and the benchmark."""
    return sorted(
        path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in ("tools", "tests", "bench")
    )


def test_the_where_things_live_table_places_every_module_of_the_toolkit():
    rows = table_after(ARCHITECTURE, "## Where things live")
    named = {path for _, modules in rows for path in re.findall(r"`([a-z0-9_/]+\.py)`", modules)}
    toolkit = {path.relative_to(ROOT).as_posix() for path in (ROOT / "shared").glob("*.py")} - {"shared/__init__.py"}
    assert (toolkit | {"authorizer.py", "handlers/health.py"}) - named == set()
    existing = {
        path.relative_to(ROOT).as_posix()
        for folder in deployed_packages()
        for path in (ROOT / folder).glob("*.py")
        if path.name != "__init__.py"
    }
    assert named - existing - {"authorizer.py"} - example_files() == set()  # the example's may be removed


@pytest.mark.parametrize("page", [path.relative_to(ROOT).as_posix() for path in PAGES])
def test_every_code_block_is_closed(page):
    fences = [line for line in (ROOT / page).read_text().splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0, f"{page} leaves a code block open"
    assert all(opening != "```" for opening in fences[0::2]), f"{page} opens a code block without a language"


def test_the_readme_fits_in_about_300_lines_and_shows_the_quick_start():
    assert len(README.splitlines()) <= README_MAX_LINES
    for command in QUICK_START:
        assert re.search(rf"^{re.escape(command)}\b", README, re.MULTILINE), command
