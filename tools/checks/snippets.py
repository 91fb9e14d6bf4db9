"""Text to paste: YAML blocks written the way template.yaml and openapi.yaml are, and the problems that carry them.

    >>> print(yaml_block({"Value": {"Ref": "MeFunction"}}, indent=2))
      Value: !Ref MeFunction

Intrinsics loaded in their long form (``{"Ref": ...}``, ``{"Fn::If": [...]}``)
are written back as short tags (``!Ref``, ``!If [...]``), so a block copied from
the template reads like the template.
"""

from __future__ import annotations

import yaml


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        return True

    def choose_scalar_style(self) -> str:
        """Plain ``!Ref Api`` where PyYAML would quote any tagged scalar (``!Ref 'Api'``), when plain is valid."""
        style = super().choose_scalar_style()
        tag = self.event.tag or ""
        if style == "'" and self.event.style is None and tag.startswith("!") and not tag.startswith("!!"):
            plain = self.analysis.allow_flow_plain if self.flow_level else self.analysis.allow_block_plain
            if plain and not self.analysis.empty and not self.analysis.multiline:
                return ""
        return style


def _represent_mapping(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    if len(data) == 1:
        ((key, value),) = data.items()
        if key == "Ref":
            return dumper.represent_scalar("!Ref", value)
        if key == "Fn::GetAtt":
            return dumper.represent_scalar("!GetAtt", ".".join(value) if isinstance(value, list) else value)
        if key.startswith("Fn::"):
            tag = "!" + key.removeprefix("Fn::")
            if isinstance(value, list):
                return dumper.represent_sequence(tag, value, flow_style=True)
            if isinstance(value, dict):
                return dumper.represent_mapping(tag, value)
            return dumper.represent_scalar(tag, value)
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=False)


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    """Text with line breaks as a block (``|``), a line that ends with one folded (``>``), as the files write them."""
    style = "|" if "\n" in data.rstrip("\n") else ">" if data.endswith("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(dict, _represent_mapping)
_Dumper.add_representer(str, _represent_text)


def yaml_block(data, indent: int = 0) -> str:
    """``data`` as block YAML, keys in their order, every line indented by ``indent`` spaces."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
    return "\n".join(" " * indent + line for line in text.rstrip("\n").splitlines())


def addition(problem: str, file: str, under: list[str], data: dict | list, action: str = "add to") -> str:
    """``problem``, then where to paste ``data`` (the keys of ``file`` it goes under), then ``data`` indented to fit.

    Both files indent by two spaces a level, so the block is ready to paste at the start of a line.
    ``action`` is ``add to``, or ``replace the event in`` for a block that replaces the one of its name.
    """
    where = ".".join(under) if under else "the top level"
    return f"{problem}: {action} {file} under {where}:\n{yaml_block(data, indent=2 * len(under))}"
