"""Helm 3 releases as a cluster stores them, read for the removed-API check (as pluto and kubent do).

Helm 3's default storage driver keeps each revision of a release in a Secret of type
``helm.sh/release.v1`` named ``sh.helm.release.v1.NAME.vREVISION``, labelled ``owner=helm``,
``name``, ``status`` and ``version``; its ``data.release`` holds the release as JSON, gzipped
and base64-encoded (helm/helm pkg/storage/driver/secrets.go and util.go), under the base64
every Secret's data has in the API. The release's ``manifest`` is the rendered YAML Helm
applied. Only the latest *deployed* revision of each release is scanned: it is what runs,
and what ``helm upgrade`` compares with (pluto does the same, and notes that Helm sometimes
leaves an older revision marked deployed: the highest wins). Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from dataclasses import dataclass

from models.prechecks import ManifestRef
from sim.manifests import scan_text

RELEASE_TYPE = "helm.sh/release.v1"
LABEL_SELECTOR = "owner=helm"
GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass(frozen=True)
class HelmRelease:
    namespace: str
    name: str
    revision: int
    status: str
    chart: str
    manifest: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def label(self) -> str:
        return f"helm release {self.key} revision {self.revision}"


def decode_release(secret: dict) -> HelmRelease | str:
    """The release a Secret stores, or why it could not be read."""
    meta = secret.get("metadata") or {}
    where = f"secret {meta.get('namespace', '?')}/{meta.get('name', '?')}"
    data = (secret.get("data") or {}).get("release")
    if secret.get("type") != RELEASE_TYPE or not isinstance(data, str):
        return f"{where}: not a Helm 3 release (type {RELEASE_TYPE} with data.release)"
    try:
        raw = base64.b64decode(base64.b64decode(data, validate=True), validate=True)
        if raw[:3] == GZIP_MAGIC:
            raw = gzip.decompress(raw)
        body = json.loads(raw)
    except (binascii.Error, ValueError, OSError, EOFError):
        return f"{where}: its release data is not base64-encoded, gzipped JSON"
    if not isinstance(body, dict):
        return f"{where}: its release data is not a release"
    info = body.get("info") or {}
    chart = ((body.get("chart") or {}).get("metadata") or {})
    labels = meta.get("labels") or {}
    return HelmRelease(namespace=str(body.get("namespace") or meta.get("namespace") or "default"),
                       name=str(body.get("name") or labels.get("name") or ""),
                       revision=int(body.get("version") or labels.get("version") or 0),
                       status=str(info.get("status") or labels.get("status") or ""),
                       chart=f"{chart.get('name', '')}-{chart.get('version', '')}".strip("-"),
                       manifest=str(body.get("manifest") or ""))


def deployed_releases(secrets: list[dict]) -> tuple[list[HelmRelease], list[str]]:
    """The latest deployed revision of each release, by namespace and name; and what could not be read."""
    latest: dict[str, HelmRelease] = {}
    problems: list[str] = []
    for secret in secrets:
        release = decode_release(secret)
        if isinstance(release, str):
            problems.append(release)
        elif release.status == "deployed" and (release.key not in latest
                                               or release.revision > latest[release.key].revision):
            latest[release.key] = release
    return [latest[k] for k in sorted(latest)], problems


def release_refs(releases: list[HelmRelease]) -> tuple[list[ManifestRef], list[tuple[str, int, str]]]:
    """Every object in the releases' manifests, each named by its release and line."""
    refs: list[ManifestRef] = []
    problems: list[tuple[str, int, str]] = []
    for release in releases:
        found, broken = scan_text(release.manifest, release.label, release.key)
        refs += found
        problems += broken
    return refs, problems
