"""Helpers shared by the project's cfn-lint rules."""

from __future__ import annotations

import re

SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


def rendered(value, variables: dict | None = None) -> str | None:
    """A string or ``Fn::Sub``/``Fn::Join`` as text, references kept as ``<Name>``; None for other intrinsics."""
    if isinstance(value, str):
        text, names = value, variables or {}
    elif isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value:
        argument = value["Fn::Sub"]
        text, names = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
    elif isinstance(value, dict) and len(value) == 1 and "Fn::Join" in value:
        separator, items = value["Fn::Join"]
        parts = [rendered(item) for item in items] if isinstance(items, list) else [None]
        return None if None in parts else separator.join(parts)
    elif isinstance(value, dict) and len(value) == 1 and ("Ref" in value or "Fn::GetAtt" in value):
        (argument,) = value.values()
        return f"<{argument if isinstance(argument, str) else '.'.join(argument)}>"
    else:
        return None
    if not isinstance(text, str):
        return None
    return SUB_VARIABLE.sub(
        lambda found: (
            f"<{found.group(1)}>" if found.group(1) not in names else (rendered(names[found.group(1)]) or "<?>")
        ),
        text,
    )


def walk(value, path: list):
    """``(path, key, value)`` for every mapping entry under ``value``, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from walk(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, [*path, index])


def strings(value, path: list):
    """``(path, text)`` for every string under ``value``."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, [*path, index])
