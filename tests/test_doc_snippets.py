"""The Python snippets of docs/schema.md and docs/resources.md run, and print what the pages say they print.

A snippet is a ```python block that starts with an import or a docstring; a block that starts otherwise
(``@router.get(...)`` for a route added to an existing module) is a fragment of a file shown elsewhere and is
not run on its own. When the block is followed by "It prints" and a ```text block, the snippet's output,
without the JSON log line of each call, is that block.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.apigw import parsed, rest_authorizer, rest_event

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("docs/schema.md", "docs/resources.md")
BLOCK = re.compile(r"```python\n(.*?)```\n(?:\n(It prints[^\n]*:)\n\n```text\n(.*?)```)?", re.DOTALL)


def snippets() -> list[tuple[str, str, str | None]]:
    """``(id, code, printed or None)`` for each runnable snippet of the pages."""
    found = []
    for page in PAGES:
        for number, (code, _, printed) in enumerate(BLOCK.findall((ROOT / page).read_text())):
            if code.startswith(("from ", "import ", '"""')):
                found.append((f"{page}#{number}", code, printed or None))
    return found


def run(code: str, name: str) -> tuple[dict, list[str]]:
    """The snippet's names and the lines it printed, each call's JSON log line left out."""
    namespace = {"__name__": name.replace("/", "_")}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, name, "exec"), namespace)
    return namespace, [line for line in output.getvalue().splitlines() if not line.startswith('{"_aws"')]


@pytest.mark.parametrize(("name", "code", "printed"), snippets(), ids=[name for name, _, _ in snippets()])
def test_the_snippet_runs_and_prints_what_the_page_shows(name, code, printed):
    _, lines = run(code, name)
    if printed is not None:
        assert lines == printed.rstrip("\n").split("\n")


def test_the_conditional_requests_snippet_serves_its_cards_with_304_and_412(database):
    code = next(code for name, code, _ in snippets() if "from shared.conditional import" in code)
    router = run(code, "conditional")[0]["router"]

    def call(method: str, path: str, body=None, headers=None):
        event = rest_event(method, path, body=body, headers=headers, authorizer=rest_authorizer())
        return parsed(router.dispatch(event, None))

    status, headers, _ = call("POST", "/cards", {"title": "Call Bob"})
    assert status == 201
    card = headers["location"]
    _, read_headers, _ = call("GET", card)
    assert call("GET", card, headers={"If-None-Match": read_headers["etag"]})[0] == 304
    assert call("PATCH", card, {"title": "Call Carol"}, headers={"If-Match": read_headers["etag"]})[0] == 200
    assert call("PATCH", card, {"title": "Call Dan"}, headers={"If-Match": read_headers["etag"]})[0] == 412
    assert call("DELETE", card, headers={"If-Match": "*"})[0] == 204
    assert call("GET", card)[0] == 404
