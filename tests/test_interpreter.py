"""The tests run on the Python version of the functions' runtime, found from the template without any dependency."""

from __future__ import annotations

import sys

import pytest

from tools import build, interpreter, samtemplate


def test_the_runtime_version_read_without_yaml_is_the_one_make_build_reads():
    read_by_setup = interpreter.template_runtime_version(interpreter.TEMPLATE.read_text())
    assert read_by_setup == build.runtime_version(samtemplate.load())


def test_the_tests_run_on_the_runtimes_python_version():
    runtime = interpreter.template_runtime_version(interpreter.TEMPLATE.read_text())
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == runtime


def test_a_quoted_runtime_with_a_comment_is_read():
    template = "Globals:\n  Function:\n    Runtime: 'python3.13'  # newest\n"
    assert interpreter.template_runtime_version(template) == "3.13"


def test_two_runtime_versions_are_refused():
    with pytest.raises(ValueError, match=r"one python3.X Runtime, found \['3.11', '3.12'\]"):
        interpreter.template_runtime_version("A:\n  Runtime: python3.12\nB:\n  Runtime: python3.11\n")


def test_a_template_without_a_python_runtime_is_refused():
    with pytest.raises(ValueError, match="found none"):
        interpreter.template_runtime_version("Globals:\n  Function:\n    Runtime: nodejs22.x\n")


def test_a_missing_version_names_what_to_install():
    with pytest.raises(interpreter.InterpreterNotFound, match=r"pyenv install 3\.99"):
        interpreter.find("3.99", environ={})
