"""make build: one zip per function, holding only what it imports, with bytecode for the runtime's Python."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from tools import build, samtemplate
from tools.checks import imports

TEMPLATE = samtemplate.load()
FUNCTIONS = sorted(samtemplate.all_functions(TEMPLATE))  # the deployment hook is built too
MODULES = {
    name: function["Properties"]["Handler"].rpartition(".")[0]  # {function: its handler module}
    for name, function in sorted(samtemplate.functions(TEMPLATE).items())
}
AUTHORIZER, _ = samtemplate.authorizer_function(TEMPLATE)
API_FUNCTIONS = {name: module for name, module in MODULES.items() if name != AUTHORIZER}
VERSION = build.runtime_version(TEMPLATE)  # the template's Runtime, python3.X: 3.X
NATIVE = f".cpython-{VERSION.replace('.', '')}-aarch64-linux-gnu.so"  # what the runtime's Python loads on arm64
DRIVER = {"pymongo", "bson", "gridfs", "dns"}  # pymongo's distribution, and dnspython for mongodb+srv:// URIs


@pytest.fixture(scope="session")
def lambda_python() -> str:
    return build.find_interpreter(build.runtime_version(samtemplate.load()))


def names_in(built, function: str) -> set[str]:
    with zipfile.ZipFile(built / f"{function}.zip") as archive:
        return set(archive.namelist())


def top_level(built, function: str) -> set[str]:
    return {name.split("/")[0] for name in names_in(built, function) if not name.endswith(".dist-info")} - {""}


def test_sizes_are_written_for_every_function(built):
    sizes = json.loads((built / "sizes.json").read_text())
    assert sorted(sizes) == FUNCTIONS
    for size in sizes.values():
        assert 0 < size["zip_bytes"] < size["unzipped_bytes"]
        assert sorted(size) == ["unzipped_bytes", "zip_bytes"]
    assert sizes["HealthFunction"]["zip_bytes"] == (built / "HealthFunction.zip").stat().st_size


def test_the_size_table_lists_every_function(built):
    table = build.size_table(json.loads((built / "sizes.json").read_text()))
    assert [line.split()[0] for line in table.splitlines()] == ["function", *FUNCTIONS]


def test_api_functions_hold_the_driver_if_their_code_reaches_the_database_but_never_the_token_library(built):
    for function, module in API_FUNCTIONS.items():
        reached = imports.closure(module).modules
        packages = {name for name in top_level(built, function) if "dist-info" not in name}
        project = {name.split(".")[0] for name in reached}
        driver = DRIVER if "shared.db" in reached else set()
        time_zones = {"tzdata"} if "profiles.schema" in reached else set()  # checks a PATCH's timezone
        assert packages == {*project, "orjson", *driver, *time_zones}, function


def test_the_authorizer_holds_the_token_library_but_not_the_driver(built):
    packages = {name for name in top_level(built, AUTHORIZER) if "dist-info" not in name}
    assert packages == {
        "authorizer.py",
        "__pycache__",
        "shared",
        "jwt",
        "orjson",
        "cryptography",
        "cffi",
        f"_cffi_backend{NATIVE}",
        "pycparser",
    }


def test_project_modules_are_exactly_those_the_handler_imports(built):
    for function, entry in MODULES.items():
        wanted = {str(path.relative_to(imports.ROOT)) for path in imports.closure(entry).modules.values()}
        present = {
            name
            for name in names_in(built, function)
            if name.endswith(".py") and imports.is_project_module(name.split("/")[0].removesuffix(".py"))
        }
        assert present == wanted, function


def test_nothing_from_tests_events_or_tools_is_packaged(built):
    for function in FUNCTIONS:
        assert not {"tests", "events", "tools", "bench", "template.yaml"} & top_level(built, function)


def test_native_code_is_for_linux_arm64_and_the_runtimes_python(built):
    for function in API_FUNCTIONS:
        native = [name for name in names_in(built, function) if name.endswith(".so")]
        assert native and all(name.endswith(NATIVE) for name in native), function


def test_every_source_file_has_unchecked_hash_bytecode_for_the_runtime(built, lambda_python):
    # Header of a .pyc: magic (4 bytes), flags (4: bit 0 hash-based, bit 1 check source), source hash (8).
    probe = (
        "import importlib.util, sys, pathlib\n"
        "root = pathlib.Path(sys.argv[1]); bad = []\n"
        "for source in root.rglob('*.py'):\n"
        "    cached = pathlib.Path(importlib.util.cache_from_source(str(source)))\n"
        "    data = cached.read_bytes() if cached.exists() else b''\n"
        "    header = (data[:4], int.from_bytes(data[4:8], 'little'), data[8:16])\n"
        "    wanted = (importlib.util.MAGIC_NUMBER, 1, importlib.util.source_hash(source.read_bytes()))\n"
        "    if header != wanted: bad.append(str(source.relative_to(root)))\n"
        "print(len(bad), bad[:5])\n"
    )
    for function in FUNCTIONS:
        answer = subprocess.run(
            [lambda_python, "-c", probe, str(built / function)], capture_output=True, text=True, check=True
        )
        assert answer.stdout.strip() == "0 []", function


def test_importing_from_the_artifact_compiles_nothing(built, lambda_python, tmp_path):
    probe = (
        "import sys, importlib._bootstrap_external as external\n"
        "compiled = []\n"
        "original = external.SourceLoader.source_to_code\n"
        "def counting(self, data, path, **kwargs):\n"
        "    compiled.append(path); return original(self, data, path, **kwargs)\n"
        "external.SourceLoader.source_to_code = counting\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import shared.config, shared.errors, shared.secrets, dns.name\n"
        "assert shared.config.__file__.startswith(sys.argv[1]), shared.config.__file__\n"
        "print(compiled)\n"
    )
    answer = subprocess.run(
        [lambda_python, "-I", "-c", probe, str(built / "HealthFunction")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert answer.stdout.strip() == "[]"


def test_zips_are_reproducible(built, lambda_python, tmp_path):
    staging = tmp_path / "HealthFunction"
    staging.mkdir()
    build.stage_function("handlers.health", staging, VERSION, imports.pinned_requirements())
    build.compile_bytecode(lambda_python, staging)
    build.write_zip(staging, tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == (built / "HealthFunction.zip").read_bytes()


def test_a_missing_interpreter_fails_with_what_to_install():
    with pytest.raises(build.BuildError) as refused:
        build.find_interpreter("3.99", environ={})
    assert "no Python 3.99 interpreter found" in str(refused.value)
    assert "set LAMBDA_PYTHON to its path" in str(refused.value)


def test_lambda_python_of_the_wrong_version_is_refused():
    with pytest.raises(build.BuildError, match=r"is not a working Python 3\.99 interpreter"):
        build.find_interpreter("3.99", environ={"LAMBDA_PYTHON": sys.executable})


# No zip holds what its function does not import: the driver, the time zone database, the profile example

PROFILE_MODULES = {"profiles/store.py", "profiles/schema.py"}
NOTES_HANDLER = """
from shared import early_db

early_db.start()

from shared import db, errors
from shared.pagination import page, parse_limit
from shared.responses import created, empty_response, json_response
from shared.router import Router
from shared.schema import Boolean, Integer, List, Map, Number, Schema, String, Url

NOTE = Schema("Note", {"title": String(max_length=100, required=True), "link": Url(), "tags": List(String()),
                       "meta": Map(Number()), "rank": Integer(), "done": Boolean()})
router = Router("notes")
"""


def test_a_new_resource_built_from_the_toolkit_reaches_no_profile_module_and_no_time_zone_database(tmp_path):
    shutil.copytree(imports.ROOT / "shared", tmp_path / "shared")
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "__init__.py").write_text("")
    (tmp_path / "handlers" / "notes.py").write_text(NOTES_HANDLER)
    found = imports.closure("handlers.notes", root=tmp_path)
    assert not {name for name in found.modules if name.split(".")[0] == "profiles"}
    assert "tzdata" not in found.third_party
    assert found.third_party - imports.RUNTIME_PROVIDED == {"orjson", "pymongo", "bson"}


def test_the_authorizer_never_holds_the_driver_and_health_holds_it_only_for_its_deep_check(built):
    assert not DRIVER & top_level(built, AUTHORIZER)
    # Health's zip holds it because GET /health?deep=true imports shared.db inside the endpoint; its
    # cold start never loads it (tests/test_health.py).
    assert "shared.db" in imports.closure("handlers.health").modules
