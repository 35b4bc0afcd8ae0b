"""Read YAML while remembering the line of every key and item.

PyYAML's ``safe_load`` forgets where things were. Regulators edit these files by
hand, so every complaint must name the file and line: we compose the node tree and
convert it ourselves, recording ``path -> line`` (1-based) along the way. Duplicate
keys, which PyYAML silently accepts, are rejected here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fairwatch.errors import DefinitionError

PathKey = tuple[Any, ...]


class LineMap:
    """Lines of the keys and items of one YAML document, addressed by path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[PathKey, int] = {}

    def line_for(self, data: Any, loc: Sequence[Any]) -> int:
        """The line of the deepest part of ``loc`` that exists in ``data``.

        Parts that do not name an existing key or index (such as pydantic's union tags,
        or a missing field) are skipped, so a missing key is reported at its parent.
        """
        path: PathKey = ()
        current = data
        best = self.lines.get((), 1)
        for part in loc:
            in_dict = isinstance(current, dict) and part in current
            in_list = (
                isinstance(current, list)
                and isinstance(part, int)
                and not isinstance(part, bool)
                and 0 <= part < len(current)
            )
            if not (in_dict or in_list):
                continue
            current = current[part]
            path = (*path, part)
            best = self.lines.get(path, best)
        return best

    def where(self, data: Any, loc: Sequence[Any]) -> str:
        """``file:line`` for ``loc``."""
        return f"{self.source}:{self.line_for(data, loc)}"


def read_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse one YAML file into plain Python data plus its :class:`LineMap`."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read: {exc}", source) from exc
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str) -> tuple[Any, LineMap]:
    """Parse YAML text; ``source`` is used in error messages."""
    lines = LineMap(source)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        data = _convert(loader, node, (), lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise DefinitionError(f"invalid YAML: {exc.problem or exc}", f"{source}:{line}") from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(f"invalid YAML: {exc}", source) from exc
    finally:
        loader.dispose()
    return data, lines


def _convert(loader: yaml.SafeLoader, node: Node, path: PathKey, lines: LineMap) -> Any:
    line = node.start_mark.line + 1
    lines.lines.setdefault(path, line)
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise DefinitionError(
                    "mapping keys must be plain scalars", f"{lines.source}:{line}"
                )
            key = _scalar(loader, key_node, lines)
            key_line = key_node.start_mark.line + 1
            if key == "<<":
                raise DefinitionError(
                    "YAML merge keys (<<) are not allowed: write every key out",
                    f"{lines.source}:{key_line}",
                )
            if key in out:
                raise DefinitionError(f"duplicate key {key!r}", f"{lines.source}:{key_line}")
            # the key's own line: where an editor looks for it
            lines.lines[(*path, key)] = key_line
            out[key] = _convert(loader, value_node, (*path, key), lines)
        return out
    if isinstance(node, SequenceNode):
        return [
            _convert(loader, item, (*path, index), lines) for index, item in enumerate(node.value)
        ]
    assert isinstance(node, ScalarNode)
    return _scalar(loader, node, lines)


def _scalar(loader: yaml.SafeLoader, node: ScalarNode, lines: LineMap) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        where = f"{lines.source}:{node.start_mark.line + 1}"
        kind = "date" if node.tag.endswith(":timestamp") else "value"
        raise DefinitionError(f"invalid {kind} {node.value!r}: {exc}", where) from exc
