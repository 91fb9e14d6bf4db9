"""Duplicate keys in a YAML file: PyYAML keeps the last of them silently, so the checks refuse them.

    >>> duplicate_keys("paths:\\n  /notes:\\n    get: {}\\n  /notes:\\n    post: {}\\n", "openapi.yaml")[0][:50]
    'openapi.yaml line 4: paths./notes appears twice (f'

The file is composed, not constructed, so any tag (``!Ref``, ``!If``) reads as it is.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def _walk(node: yaml.Node, keys: list[str], file: str, found: list[str]) -> None:
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            line = key.start_mark.line + 1
            if name in first and name != "<<":
                where = ".".join([*keys, name])
                found.append(
                    f"{file} line {line}: {where} appears twice (first at line {first[name]}): merge the "
                    f"two into one (YAML keeps only the last)"
                )
            first.setdefault(name, line)
            _walk(value, [*keys, name], file, found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, [*keys[:-1], f"{keys[-1]}[{index}]"] if keys else [f"[{index}]"], file, found)


def duplicate_keys(text: str, file: str) -> list[str]:
    """One line per key that appears twice in the same mapping of ``text``; ``[]`` when there is none.

    Text that is not YAML at all is left to the loader that reads it next, whose message says why.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    found: list[str] = []
    if node is not None:
        _walk(node, [], file, found)
    return found


def check_file(path: Path) -> list[str]:
    """:func:`duplicate_keys` of the file at ``path``, named as the person knows it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    return duplicate_keys(text, path.name)
