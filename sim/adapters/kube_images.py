"""Versions in container images: the tag of an image, and the container of a pod or workload that
carries a component (by name, else by image, not whichever is listed first). Pure."""

from __future__ import annotations

import re

from models.version import KubeVersion

_TAG = re.compile(r":(v?\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]*)?)(?:@sha256:[0-9a-f]+)?$")


def image_version(image: str | None) -> KubeVersion | None:
    """The version in an image tag: ``registry.k8s.io/kube-proxy:v1.29.3`` -> 1.29.3 (None if none)."""
    if not image:
        return None
    m = _TAG.search(image)
    if not m:
        return None
    try:
        return KubeVersion.parse(m.group(1))
    except ValueError:
        return None


def container_named(containers: list[dict], name: str) -> dict | None:
    """The container that carries ``name`` (an add-on or a control-plane component): the one of that
    name, else the one whose image is that name (``.../kube-proxy:v1.29.3``), else the first; a
    sidecar listed first is not mistaken for it."""
    containers = [c for c in containers or [] if isinstance(c, dict)]
    for c in containers:
        if c.get("name") == name:
            return c
    for c in containers:
        repo = (c.get("image") or "").split("@")[0].rsplit("/", 1)[-1].split(":")[0]
        if repo == name:
            return c
    return containers[0] if containers else None


def container_version(containers: list[dict], name: str) -> KubeVersion | None:
    """The version in the image tag of the container that carries ``name``."""
    found = container_named(containers, name)
    return image_version(found.get("image")) if found else None
