"""cfn-lint with the project's own rules (``tools/checks/cfn_rules``), in-process."""

from __future__ import annotations

import json
from pathlib import Path

RULES = Path(__file__).resolve().parent / "cfn_rules"
REGIONS = ["us-east-1"]


def _config():
    from cfnlint.api import ManualArgs

    return ManualArgs(append_rules=[str(RULES)], regions=REGIONS)


def _lines(matches, name: str) -> list[str]:
    return [f"{name}:{match.linenumber}: {match.rule.id} {match.message}" for match in matches]


def lint_file(path: Path) -> list[str]:
    """cfn-lint's findings for a template file, one line each."""
    from cfnlint.api import lint_file as run

    return _lines(run(Path(path), config=_config()), Path(path).name)


def lint_document(document: dict, name: str) -> list[str]:
    """cfn-lint's findings for a template given as data (for example SAM's output)."""
    from cfnlint.api import lint

    return _lines(lint(json.dumps(document, default=str), config=_config()), name)
