"""A YAML document read with the line of every value, so that an error in it can name its line.

PyYAML's safe composer gives the nodes and their marks; this turns them into plain values
wrapped in :class:`Located` (value and line) and refuses what a configuration file should not
hold: duplicate keys (YAML keeps the last silently), keys that are not plain text, and tags.
A key is read as written (``on:`` is the name ``on``, not YAML 1.1's True). Anchors and aliases
work as in any YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

MAX_BYTES = 1 << 20  # a rules file is a few KiB: a megabyte is a mistake, not a configuration


class FileError(ValueError):
    """A problem in a file, at a line: ``str()`` is ``FILE:LINE: what is wrong``."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source, self.line, self.message = source, line, message
        super().__init__(f"{source}:{line}: {message}" if line is not None else f"{source}: {message}")


@dataclass(frozen=True, slots=True)
class Located:
    """A value from the file and the line (from 1) it starts on. Mappings hold Located keys' text
    mapped to Located values, lists hold Located items, and scalars plain Python values."""

    value: Any
    line: int

    def at(self, source: str, message: str) -> FileError:
        """An error about this value."""
        return FileError(source, self.line, message)


def load(text: str, source: str) -> Located | None:
    """The document in ``text`` (None when it is empty); FileError for what is not sound YAML."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise FileError(source, None, f"larger than {MAX_BYTES // 1024} KiB: is this a rules file?")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise FileError(source, None if mark is None else mark.line + 1,
                        f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise FileError(source, None, f"not valid YAML: {exc}") from None
    return None if node is None else _convert(node, source)


def _convert(node: yaml.Node, source: str) -> Located:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        items: dict[str, Located] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise FileError(source, key_node.start_mark.line + 1, "a key must be a name, not a list "
                                                                      "or a mapping")
            key = key_node.value  # as written: ``on:`` is the name on, not YAML 1.1's True
            if key in items:
                raise FileError(source, key_node.start_mark.line + 1,
                                f"{key!r} is given twice (first on line {items[key].line})")
            items[key] = _convert(value_node, source)
        return Located(items, line)
    if isinstance(node, yaml.SequenceNode):
        return Located([_convert(item, source) for item in node.value], line)
    return Located(_scalar(node, source), line)


def _scalar(node: yaml.Node, source: str) -> Any:
    if node.tag.startswith("!") or not node.tag.startswith("tag:yaml.org,2002:"):
        raise FileError(source, node.start_mark.line + 1, f"tags such as {node.tag!r} are not read here")
    constructor = yaml.SafeLoader(node.value)
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        raise FileError(source, node.start_mark.line + 1, f"not valid YAML: {exc.problem}") from None
    finally:
        constructor.dispose()
