"""YAML text with every value's line remembered, and ``--set`` overrides applied to it.

A scenario is validated after loading, so each value must keep where it came from: a
line of the file, or the ``--set`` argument that replaced it. ``Source`` holds the
plain data (dicts, lists, scalars) together with, per path, that origin and the
scalar's raw text (so ``version: 1.30`` can be read as the text the user typed rather
than the number 1.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple  # of str keys and int indices


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass
class Problem:
    """One thing wrong with an input: where, which field, what is wrong and what would be valid."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}"


class InputError(Exception):
    """Bad input, with every problem found in it; the CLI prints them and exits 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Source:
    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    raw: dict[Path, str] = field(default_factory=dict)
    origin: dict[Path, str] = field(default_factory=dict)
    # values that came from another file (a timing file or profile): that file; their lines are its lines
    files: dict[Path, str] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while True:
            if path in self.origin:
                return None
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def where(self, path: Path) -> tuple[str, int | None]:
        probe = path
        while True:
            if probe in self.origin:
                return self.origin[probe], None
            if probe in self.files:
                return self.files[probe], self.line(path)
            if not probe:
                break
            probe = probe[:-1]
        return self.file, self.line(path)

    def problem(self, path: Path, message: str) -> Problem:
        file, line = self.where(path)
        return Problem(file, line, format_path(path), message)


class _Loader(yaml.SafeLoader):
    pass


# Values an alias may add to a file: a scenario repeats a pool or a timing block a few times;
# an alias bomb (aliases of aliases, each doubling the document) reaches millions at once.
MAX_ALIASED_VALUES = 10_000
MERGE_TAG = "tag:yaml.org,2002:merge"


class _Walker:
    """Turns the composed YAML graph into plain data, remembering each value's line. The graph
    may share nodes (aliases): a node inside itself, or more than MAX_ALIASED_VALUES values
    reached through aliases, is a problem, raised at once."""

    def __init__(self, src: Source, problems: list[Problem]):
        self.src, self.problems = src, problems
        self.loader = _Loader("")
        self.open: set[int] = set()  # the nodes being walked, from the top down to here
        self.seen: set[int] = set()
        self.aliased = 0

    def _fail(self, path: Path, line: int, message: str) -> None:
        file, at = self.src.where(path)
        raise InputError([Problem(file, line if at is not None or file == self.src.file and not self.src.origin
                                  else None, format_path(path), message)])

    def _pairs(self, node: yaml.MappingNode, path: Path, where: int) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The mapping's own (key, value) pairs first, then those its merge keys (``<<: *base``) bring in."""
        own, merged = [], []
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                own.append((key_node, value_node, False))
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self._fail(path + ("<<",), key_node.start_mark.line + 1,
                               "a merge key takes a mapping or a list of mappings, e.g. <<: *defaults")
                if id(source) in self.open:
                    self._fail(path + ("<<",), key_node.start_mark.line + 1,
                               "this merge brings in the mapping that contains it; a scenario must be a tree")
                self.open.add(id(source))
                merged += [(k, v, True) for k, v, _ in self._pairs(source, path, where)]
                self.open.discard(id(source))
        return own + merged

    def walk(self, node: yaml.Node, path: Path, line: int | None = None) -> Any:
        where = line if line is not None else node.start_mark.line + 1
        if id(node) in self.open:
            self._fail(path, where, f"this alias refers to a value that contains it (anchored at line "
                                    f"{node.start_mark.line + 1}); a scenario must be a tree: write the value out")
        if id(node) in self.seen:
            self.aliased += 1
            if self.aliased > MAX_ALIASED_VALUES:
                self._fail(path, where, f"aliases expand this file by more than {MAX_ALIASED_VALUES:,} values "
                                        "(aliases of aliases?); write the repeated values out, or alias less")
        self.seen.add(id(node))
        self.src.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            self.open.add(id(node))
            out: dict = {}
            for key_node, value_node, merged in self._pairs(node, path, where):
                key = self.loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) \
                    else f"({key_node.tag.rsplit(':', 1)[-1]})"
                if not isinstance(key, str):
                    key = str(key)
                key_line = where if merged else key_node.start_mark.line + 1
                if key in out:
                    if not merged:  # a merged key gives way to the mapping's own, and to earlier merges
                        self.problems.append(Problem(self.src.file, key_line, format_path(path + (key,)),
                                                     "this key appears twice in the same mapping; keep one"))
                    continue
                out[key] = self.walk(value_node, path + (key,), key_line)
                self.src.lines[path + (key,)] = key_line
            self.open.discard(id(node))
            return out
        if isinstance(node, yaml.SequenceNode):
            self.open.add(id(node))
            # an aliased item's own line is its anchor's; the error belongs where the alias is used
            items = [self.walk(item, path + (i,), where if id(item) in self.seen or id(item) in self.open else None)
                     for i, item in enumerate(node.value)]
            self.open.discard(id(node))
            return items
        self.src.raw[path] = node.value
        return self.loader.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> Source:
    """Parse one YAML document into a ``Source``; syntax errors become an ``InputError``."""
    src = Source(file, None)
    loader = _Loader(text)
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        opened = exc.context_mark.line + 1 if exc.context_mark and exc.problem_mark else None
        if opened is not None and opened != line:
            # the parser notices the problem where it can no longer go on; it began earlier
            hint = f"; fix the YAML syntax here or above, from line {opened} where that began"
        else:
            hint = "; fix the YAML syntax at this line"
        raise InputError([Problem(file, line, "(yaml)", f"{what}{hint}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, None, "(yaml)", f"{exc}; the file must hold one YAML document")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise InputError([Problem(file, 1, "(top level)", "the file is empty; expected a Scenario mapping")])
    src.data = _Walker(src, problems).walk(node, ())
    if problems:
        raise InputError(problems)
    return src


def load_yaml_file(path: str) -> Source:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InputError([Problem(path, None, "(file)", "no such file; give the path of a scenario YAML file")]) from None
    except IsADirectoryError:
        raise InputError([Problem(path, None, "(file)", "this is a directory; give the path of a scenario YAML file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(path, None, "(file)", f"cannot be read ({exc}); give a readable UTF-8 YAML file")]) from None
    return parse_yaml(text, path)


def _split_assignment(text: str) -> tuple[str, str] | None:
    """Split PATH=VALUE at the first '=' outside brackets (``workloads[name=web].replicas=2``)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "=" and depth == 0:
            return (text[:i], text[i + 1:]) if i else None
    return None


_PART_RE = re.compile(r"([A-Za-z_][\w-]*)|\[(\d+)\]|\[([A-Za-z_][\w-]*)=([^\]]+)\]")


def _parse_set_path(text: str) -> list:
    parts: list = []
    for segment in text.split("."):
        if not segment:
            raise ValueError(f"{text!r} has an empty field name (two dots, or a dot at an end); expected e.g. "
                             "cluster.controlPlane.apiservers")
        pos = 0
        while pos < len(segment):
            m = _PART_RE.match(segment, pos)
            if not m:
                raise ValueError(f"cannot read {text!r} as a field path (expected e.g. cluster.controlPlane.apiservers, "
                                 "strategies[0].maxUnavailable or workloads[name=web].replicas)")
            if m.group(1):
                parts.append(m.group(1))
            elif m.group(2):
                parts.append(int(m.group(2)))
            else:
                parts.append((m.group(3), m.group(4)))
            pos = m.end()
    return parts


def _set_value(raw: str, label: str) -> Any:
    """The value of a ``--set``, read as YAML as a file's values are (text when it is not YAML)."""
    if not raw.strip():
        return ""
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError:
        return raw
    finally:
        loader.dispose()
    if node is None:
        return None
    problems: list[Problem] = []
    value = _Walker(Source(label, None, origin={(): label}), problems).walk(node, ())
    if problems:
        raise InputError(problems)
    return value


def apply_set(src: Source, assignment: str, label: str | None = None) -> None:
    """Apply one ``--set path=value`` to ``src`` (the value is read as YAML). Its problems name
    ``label``: the command-line argument it came from (default: ``--set PATH=VALUE``)."""
    label = label or f"--set {assignment}"
    split = _split_assignment(assignment)
    if split is None:
        raise InputError([Problem(label, None, "(--set)", "expected PATH=VALUE, e.g. --set cluster.controlPlane.apiservers=1")])
    path_text, raw_value = split
    try:
        parts = _parse_set_path(path_text)
    except ValueError as exc:
        raise InputError([Problem(label, None, path_text, str(exc))]) from None
    value = _set_value(raw_value, label)
    node = src.data
    path: Path = ()
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, tuple):
            key, want = part
            if not isinstance(node, list):
                raise InputError([Problem(label, None, format_path(path), "is not a list; [name=...] selects a list item")])
            matches = [j for j, item in enumerate(node) if isinstance(item, dict) and str(item.get(key)) == want]
            if not matches:
                have = ", ".join(str(item.get(key)) for item in node if isinstance(item, dict))
                raise InputError([Problem(label, None, format_path(path), f"no item with {key}={want}; items have {key}: {have or 'none'}")])
            part = matches[0]
        if isinstance(part, int):
            if not isinstance(node, list) or not (0 <= part < len(node) + (1 if last else 0)):
                size = len(node) if isinstance(node, list) else 0
                raise InputError([Problem(label, None, format_path(path + (part,)),
                                          f"index {part} is out of range; this list has {size} item(s)")])
            if last and part == len(node):
                node.append(None)
        elif not isinstance(node, dict):
            raise InputError([Problem(label, None, format_path(path), f"is not a mapping, so it has no field {part!r}")])
        path = path + (part,)
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and node.get(part) is None:
                node[part] = [] if isinstance(parts[i + 1], int) else {}
                src.origin[path] = label  # made by this --set: its problems are the argument's
            node = node[part]
    for stale in [p for p in list(src.raw) + list(src.lines) if p[: len(path)] == path]:
        src.raw.pop(stale, None)
        src.lines.pop(stale, None)
    src.origin[path] = label
    if not isinstance(value, (dict, list)):
        src.raw[path] = raw_value.strip()
