"""The profile example removed as docs/architecture.md says, in a copy: generate, lint and the suite pass."""

from __future__ import annotations

import os
import re
import sys

import pytest
import yaml

from tests.test_tutorial import copy_of_the_repository, run
from tools import generate, samtemplate

ROOT = generate.ROOT
STEPS = re.compile(r"^<!-- example removal -->\n+```sh\n(?P<block>.*?)\n```$", re.MULTILINE | re.DOTALL)
# The parts of the suite that walk whatever is declared, with nothing of the example left to find.
SUITE = [
    "tests/test_template_functions.py",
    "tests/test_budget.py",
    "tests/test_readme.py",
    "-k",
    "template or budget or routes_table or where_things or shared_row",
]


def removal_commands() -> list[str]:
    block = STEPS.search((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")).group("block")
    return [line for line in block.splitlines() if line.strip()]


def test_the_docs_say_how_to_remove_the_example():
    commands = removal_commands()
    assert commands[-1] == "make generate" and any(command.startswith("rm ") for command in commands)


def example_is_here() -> bool:
    """Whether the files the removal steps delete are still there (a project may have removed them already)."""
    named = [word for command in removal_commands() if command.startswith("rm ") for word in command.split()[1:]]
    return any(list(ROOT.glob(name)) for name in named if not name.startswith("-"))


@pytest.mark.slow
def test_removing_the_example_leaves_an_api_whose_generate_lint_and_suite_pass(tmp_path):
    if not example_is_here():
        pytest.skip("the example is removed already")
    repository = copy_of_the_repository(tmp_path / "repository")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for command in removal_commands():
        result = run(command, repository, env)
        assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    template = samtemplate.load(repository / "template.yaml")
    assert {"AuthorizerFunction", "HealthFunction"} <= set(samtemplate.functions(template))
    assert not [name for name in [*template["Parameters"], *template["Resources"]] if name.startswith(("Me", "Users"))]

    described = yaml.safe_load((repository / "openapi.yaml").read_text(encoding="utf-8"))
    assert "/health" in described["paths"]
    assert not [path for path in described["paths"] if path.startswith(("/me", "/users"))]
    lint = run("make lint", repository, env)
    assert lint.returncode == 0, (lint.stdout + lint.stderr)[-3000:]
    assert "deploy checks: 0 problem(s)" in lint.stdout + lint.stderr
    assert run("make generate", repository, env).stdout.strip().startswith("openapi.yaml, events/")

    suite = run(
        " ".join(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE[:-2], SUITE[-2], repr(SUITE[-1])]
        ),
        repository,
        env,
    )
    assert suite.returncode == 0, suite.stdout[-3000:]
