"""Kubernetes object names (RFC 1123), as the API server checks them.

A namespace and a node pool (whose nodes midair names ``POOL-1``, ``POOL-2``, ...) are DNS
labels; a workload (Deployment, StatefulSet, DaemonSet, Pod) is a DNS subdomain.
"""

from __future__ import annotations

import re

LABEL_MAX = 63
SUBDOMAIN_MAX = 253
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
LABEL_RE = re.compile(_LABEL)
SUBDOMAIN_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")
RULES = {
    "label": f"lowercase letters, digits and '-', starting and ending with a letter or digit, at most {LABEL_MAX} "
             "characters (an RFC 1123 label)",
    "subdomain": "lowercase letters, digits, '-' and '.', each part between dots starting and ending with a letter "
                 f"or digit, at most {SUBDOMAIN_MAX} characters (an RFC 1123 subdomain)",
}


def name_problem(text: str, kind: str) -> str | None:
    """What is wrong with ``text`` as a name of ``kind`` ("label" or "subdomain"), for a message
    that begins with the name; None if nothing."""
    pattern, most = (LABEL_RE, LABEL_MAX) if kind == "label" else (SUBDOMAIN_RE, SUBDOMAIN_MAX)
    if len(text) > most:
        return f"has {len(text)} characters; valid: {RULES[kind]}"
    if not pattern.fullmatch(text):
        return f"is not a Kubernetes name; valid: {RULES[kind]}"
    return None


def as_label(text: str) -> str:
    """``text`` made a DNS label: lowercase, other characters as '-', trimmed ("" if nothing is left)."""
    out = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:LABEL_MAX]
    return out.rstrip("-")
