"""Scan the user's manifests for the APIs they use: files or directories of YAML (or JSON),
multi-document, as written by hand or rendered by Helm (comments and ``---`` separators),
with a ``kind: List`` unpacked, and the manifests of Helm releases. Each object is reported with
its file and line (and its Helm release, when Helm's annotations or the release name it); a
broken document is reported without hiding the documents after it."""

from __future__ import annotations

import os
import re
from dataclasses import replace

import yaml

from models.prechecks import ManifestRef

SUFFIXES = (".yaml", ".yml", ".json")


def _files(path: str) -> list[str]:
    if os.path.isdir(path):
        out = []
        for root, dirs, names in os.walk(path):
            dirs.sort()
            out += [os.path.join(root, n) for n in sorted(names) if n.endswith(SUFFIXES)]
        return out
    return [path]


def _scalar(node: yaml.MappingNode, key: str) -> tuple[str | None, int]:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.ScalarNode):
            return v.value, k.start_mark.line + 1
    return None, node.start_mark.line + 1


def _child(node: yaml.MappingNode, key: str):
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _objects(node, file: str, offset: int = 0) -> list[ManifestRef]:
    """The objects in a YAML node; ``offset`` is the number of lines before its document."""
    if not isinstance(node, yaml.MappingNode):
        return []
    api_version, line = _scalar(node, "apiVersion")
    kind, _ = _scalar(node, "kind")
    if kind and kind.endswith("List"):
        items = _child(node, "items")
        return [ref for item in (items.value if isinstance(items, yaml.SequenceNode) else [])
                for ref in _objects(item, file, offset)]
    if not api_version or not kind:
        return []
    meta = _child(node, "metadata")
    name = _scalar(meta, "name")[0] if isinstance(meta, yaml.MappingNode) else None
    return [ManifestRef(file, line + offset, api_version, kind, name or "", _release(meta))]


def _release(meta) -> str:
    """The Helm release that manages an object: Helm 3 annotates each with meta.helm.sh/release-name and
    meta.helm.sh/release-namespace (helm.sh/docs: the labels and annotations Helm sets)."""
    notes = _child(meta, "annotations") if isinstance(meta, yaml.MappingNode) else None
    if not isinstance(notes, yaml.MappingNode):
        return ""
    name, _ = _scalar(notes, "meta.helm.sh/release-name")
    namespace, _ = _scalar(notes, "meta.helm.sh/release-namespace")
    return f"{namespace}/{name}" if name and namespace else name or ""


def scan(paths) -> tuple[list[ManifestRef], list[tuple[str, int, str]]]:
    """The objects found, and the (file, line, problem) of what could not be read."""
    refs: list[ManifestRef] = []
    problems: list[tuple[str, int, str]] = []
    for path in paths:
        if not os.path.exists(path):
            problems.append((path, 0, "no such file or directory"))
            continue
        for file in _files(path):
            try:
                with open(file, encoding="utf-8") as fh:
                    text = fh.read()
            except (OSError, UnicodeDecodeError) as exc:
                problems.append((file, 0, f"cannot be read ({exc})"))
                continue
            found, broken = scan_text(text, file)
            refs += found
            problems += broken
    return refs, problems


def scan_text(text: str, file: str, release: str = "") -> tuple[list[ManifestRef], list[tuple[str, int, str]]]:
    """The objects in one text of YAML documents (a file, or a Helm release's manifest), reported as
    ``file``; ``release`` names the Helm release they belong to, when the text is one's manifest."""
    refs: list[ManifestRef] = []
    problems: list[tuple[str, int, str]] = []
    for start, chunk in _documents(text):
        try:
            for doc in yaml.compose_all(chunk, Loader=yaml.SafeLoader):
                refs += [replace(r, release=release) if release else r for r in _objects(doc, file, start)]
        except yaml.MarkedYAMLError as exc:  # this document only: the next ones are still read
            mark = exc.problem_mark or exc.context_mark
            line = start + mark.line + 1 if mark else start + 1
            problems.append((file, line, f"not valid YAML: {exc.problem or exc}"))
    return refs, problems


_SEPARATOR = re.compile(r"^---(\s|$)")


def _documents(text: str) -> list[tuple[int, str]]:
    """The documents of a multi-document file, each with the number of lines before it, so
    that one broken document does not hide the others."""
    lines = text.splitlines(keepends=True)
    starts = [0] + [i for i, line in enumerate(lines) if i and _SEPARATOR.match(line)]
    return [(a, "".join(lines[a:b])) for a, b in zip(starts, [*starts[1:], len(lines)])]
