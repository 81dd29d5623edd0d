"""Kubernetes versions: parse, compare and do minor-version arithmetic.

A Kubernetes version is ``MAJOR.MINOR[.PATCH][-SUFFIX][+BUILD]`` with an optional
leading ``v``. A version written without a patch (``1.29``) names the minor release
as a whole; it compares equal to ``1.29.0`` and prints as ``1.29``.

Kubernetes itself tags pre-releases only as ``alpha.N``, ``beta.N`` and ``rc.N``
(kubernetes/release: the release tags). Those sort before their release
(``1.30.0-rc.1 < 1.30.0``) by the semantic-versioning rules. Any other suffix is a
vendor's build of a release, as managed platforms and distributions report their nodes
(``v1.30.2-eks-036c24b``, ``v1.29.4-gke.1043000``, ``v1.28.3-aliyun.1``; also etcd's image
revision ``3.5.12-0``): kept as ``vendor`` and printed, but the version *is* that release
and compares equal to it. Build metadata (``+k3s1``) is kept and ignored the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_VERSION_RE = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


PRE_RELEASE_TAGS = ("alpha", "beta", "rc")


def is_pre_release(suffix: str) -> bool:
    """Is a ``-suffix`` a Kubernetes pre-release (``alpha.1``, ``beta.0``, ``rc.2``) rather than a vendor build?"""
    return suffix.split(".", 1)[0].lower().startswith(PRE_RELEASE_TAGS)


def _pre_key(pre: str | None) -> tuple:
    # A release sorts after all of its pre-releases; numeric identifiers sort
    # numerically and before alphanumeric ones (semver 2.0.0, rule 11).
    if pre is None:
        return (1,)
    parts = []
    for ident in pre.split("."):
        parts.append((0, int(ident), "") if ident.isdigit() else (1, 0, ident))
    return (0, tuple(parts))


@dataclass(frozen=True)
class KubeVersion:
    """One Kubernetes version; ``patch`` is None when the text named only a minor."""

    major: int
    minor: int
    patch: int | None = None
    pre: str | None = None
    build: str | None = field(default=None, compare=False)
    vendor: str | None = field(default=None, compare=False)
    _k: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Versions are compared and hashed in hot loops; compute the sort key and its hash once.
        object.__setattr__(self, "_k", (self.major, self.minor, self.patch or 0, _pre_key(self.pre)))
        object.__setattr__(self, "_h", hash(self._k))

    def __getstate__(self) -> dict:
        # the hash of a pre-release's words is this process's (string hashing is seeded per process): a
        # version pickled to another process works it out there again
        state = dict(self.__dict__)
        del state["_h"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "_h", hash(self._k))

    @classmethod
    def parse(cls, text: str | KubeVersion) -> KubeVersion:
        if isinstance(text, KubeVersion):
            return text
        if not isinstance(text, str):
            raise ValueError(f"not a Kubernetes version: {text!r} (expected text such as 'v1.29.3')")
        m = _VERSION_RE.match(text.strip())
        if not m:
            raise ValueError(
                f"not a Kubernetes version: {text!r} "
                "(expected MAJOR.MINOR[.PATCH], e.g. 'v1.29.3', '1.29', '1.30.0-rc.1')"
            )
        patch = m.group("patch")
        suffix = m.group("pre")
        if patch is None and suffix:
            raise ValueError(f"not a Kubernetes version: {text!r} (a pre-release or vendor suffix needs a patch, "
                             "e.g. '1.30.0-rc.1', '1.30.2-eks-036c24b')")
        pre = suffix if suffix and is_pre_release(suffix) else None
        return cls(
            int(m.group("major")),
            int(m.group("minor")),
            None if patch is None else int(patch),
            pre,
            m.group("build"),
            suffix if suffix and pre is None else None,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KubeVersion):
            return NotImplemented
        return self._k == other._k

    def __hash__(self) -> int:
        return self._h

    def __lt__(self, other: KubeVersion) -> bool:
        if not isinstance(other, KubeVersion):
            return NotImplemented
        return self._k < other._k

    def __le__(self, other: KubeVersion) -> bool:
        if not isinstance(other, KubeVersion):
            return NotImplemented
        return self._k <= other._k

    def __gt__(self, other: KubeVersion) -> bool:
        if not isinstance(other, KubeVersion):
            return NotImplemented
        return self._k > other._k

    def __ge__(self, other: KubeVersion) -> bool:
        if not isinstance(other, KubeVersion):
            return NotImplemented
        return self._k >= other._k

    def __str__(self) -> str:
        text = self.__dict__.get("_text")
        if text is None:  # versions are printed in every log line and record: format each once
            text = self._format()
            object.__setattr__(self, "_text", text)
        return text

    def _format(self) -> str:
        text = f"{self.major}.{self.minor}"
        if self.patch is not None:
            text += f".{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.vendor:
            text += f"-{self.vendor}"
        if self.build:
            text += f"+{self.build}"
        return text

    def __repr__(self) -> str:
        return f"KubeVersion('{self}')"

    @property
    def minor_release(self) -> KubeVersion:
        """The minor release this version belongs to (``1.29.3`` -> ``1.29``)."""
        minor = self.__dict__.get("_minor")
        if minor is None:  # asked of the plan's versions at every decision
            minor = KubeVersion(self.major, self.minor)
            object.__setattr__(self, "_minor", minor)
        return minor

    @property
    def release(self) -> KubeVersion:
        """The upstream release without vendor suffix or build metadata (``1.30.2-eks-036c24b`` -> ``1.30.2``)."""
        return KubeVersion(self.major, self.minor, self.patch, self.pre)

    def minors_to(self, other: KubeVersion) -> int:
        """How many minor releases ``other`` is ahead of this one (negative: behind)."""
        if other.major != self.major:
            raise ValueError(f"cannot count minor releases between {self} and {other}: different major versions")
        return other.minor - self.minor

    def add_minors(self, n: int) -> KubeVersion:
        """The minor release ``n`` minors after this one (as a minor, without a patch)."""
        if self.minor + n < 0:
            raise ValueError(f"{self} has no minor release {n} before it")
        return KubeVersion(self.major, self.minor + n)

    def same_minor(self, other: KubeVersion) -> bool:
        return (self.major, self.minor) == (other.major, other.minor)


def parse_version(text: str | KubeVersion) -> KubeVersion:
    """Parse ``text`` into a ``KubeVersion``; raise ``ValueError`` naming it if it is not one."""
    return KubeVersion.parse(text)
