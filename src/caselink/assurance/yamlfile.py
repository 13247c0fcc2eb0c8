"""YAML loading that remembers line numbers, so a malformed checklist or rule file is named by line.

PyYAML's composed node tree carries marks; we convert it ourselves and keep a map from each value's
path (``("steps", 3, "due_hours")``) to its 1-based line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from caselink.assurance.errors import ConfigFileError

Path_ = tuple[Any, ...]


class LocatedYaml:
    """A parsed YAML document plus the line of every mapping key and list item."""

    def __init__(self, source: str, data: Any, lines: dict[Path_, int]) -> None:
        self.source = source
        self.data = data
        self.lines = lines

    def error(self, path: Path_, message: str) -> ConfigFileError:
        """A ConfigFileError at the line of ``path`` (or its nearest located parent)."""
        probe = path
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return ConfigFileError(f"{self.source}:{line}: {where + ': ' if where else ''}{message}")


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int], source: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(key_node, yaml.ScalarNode) \
                else _scalar(key_node)
            if not isinstance(key, str):
                raise ConfigFileError(f"{source}:{key_node.start_mark.line + 1}: keys must be text, not {key!r}")
            if key in out:
                raise ConfigFileError(f"{source}:{key_node.start_mark.line + 1}: '{key}' appears twice")
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, path + (key,), lines, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (index,), lines, source) for index, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.SafeLoader(yaml.serialize(node)).get_single_data() if node.tag != "tag:yaml.org,2002:str" \
        else node.value


def load_located(path: Path | str, text: str | None = None) -> LocatedYaml:
    """Parse ``path`` (or ``text`` named as ``path``); raise ConfigFileError with the line on bad YAML."""
    source = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigFileError(f"{source}: cannot read ({exc.__class__.__name__}: {exc})") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigFileError(f"{source}:{line}: not valid YAML: {problem}") from exc
    if node is None:
        raise ConfigFileError(f"{source}:1: the file is empty")
    lines: dict[Path_, int] = {}
    return LocatedYaml(source, _convert(node, (), lines, source), lines)
