"""Finding and reading the kubeconfig as kubectl (client-go's loading rules) does.

``--kubeconfig FILE`` alone; else every file in ``$KUBECONFIG`` (a list, merged: the first
file to define a cluster, user or context wins, and the first ``current-context`` set
wins; missing files are skipped); else ``~/.kube/config``; else, in a pod, the in-cluster
service account. Relative certificate and key paths count from the file that names them,
and so does an exec plugin's command when it names a path rather than a program on PATH
(client-go's ``ResolveLocalPaths``). The chosen context's files are checked before any
connection: each must exist and be readable, and a client certificate must not have
expired. Every problem is a ``KubeAccessError`` (exit 3) naming the file, the line (YAML) or
the command.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import yaml

from sim.adapters.certs import not_after
from sim.adapters.kube_client import KubeAccessError, require_extra

PATH_KEYS = {"clusters": ("certificate-authority",), "users": ("client-certificate", "client-key", "tokenFile")}
SECTIONS = {"clusters": "cluster", "users": "user", "contexts": "context"}
DEFAULT = "~/.kube/config"


def _read(path: Path) -> dict:
    try:
        text = path.read_text()
    except OSError as exc:
        raise KubeAccessError(f"kubeconfig {path}: cannot read it ({exc.strerror})") from None
    try:
        conf = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise KubeAccessError(f"kubeconfig {where}: not valid YAML ({problem})") from None
    if not isinstance(conf, dict):
        raise KubeAccessError(f"kubeconfig {path}: expected a mapping with clusters, users and contexts")
    for section in SECTIONS:
        entries = conf.get(section) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) and "name" in e for e in entries):
            raise KubeAccessError(f"kubeconfig {path}: {section} must be a list of entries with a name")
        for entry in entries:
            body = entry.get(SECTIONS[section]) or {}
            for key in PATH_KEYS.get(section, ()):
                if isinstance(body.get(key), str) and not os.path.isabs(body[key]):
                    body[key] = str(path.parent / body[key])
            command = (body.get("exec") or {}).get("command") if isinstance(body.get("exec"), dict) else None
            if isinstance(command, str) and os.sep in command and not os.path.isabs(command):
                body["exec"]["command"] = str(path.parent / command)
            entry[SECTIONS[section]] = body
    return conf


def merge(paths: list[Path]) -> dict:
    """The files' clusters, users and contexts; the first to define a name wins."""
    merged: dict = {section: [] for section in SECTIONS}
    seen: dict = {section: set() for section in SECTIONS}
    for path in paths:
        conf = _read(path)
        if merged.get("current-context") is None and conf.get("current-context"):
            merged["current-context"] = conf["current-context"]
        for section in SECTIONS:
            for entry in conf.get(section) or []:
                if entry["name"] not in seen[section]:
                    seen[section].add(entry["name"])
                    merged[section].append(entry)
    return merged


def kubeconfig_files(explicit: str | None) -> tuple[list[Path], str]:
    """The files to read and how to name them in an error; no files: use the in-cluster account."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise KubeAccessError(f"kubeconfig {explicit}: no such file")
        return [path], explicit
    listed = os.environ.get("KUBECONFIG", "")
    if listed:
        paths = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
        found = [p for p in paths if p.is_file()]
        if not found:
            raise KubeAccessError(f"KUBECONFIG={listed}: none of its files exists")
        return found, "KUBECONFIG=" + listed
    default = Path(DEFAULT).expanduser()
    return ([default], DEFAULT) if default.is_file() else ([], DEFAULT)


def load_config(kubeconfig: str | None, context: str | None):
    """The connection settings of ``context`` (default: the current one), found as kubectl finds them."""
    require_extra()
    from lightkube import ConfigError, KubeConfig

    paths, where = kubeconfig_files(kubeconfig)
    if not paths:
        if not os.environ.get("KUBERNETES_SERVICE_HOST"):
            raise KubeAccessError(f"no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or create {DEFAULT}")
        try:
            return KubeConfig.from_service_account().get()
        except ConfigError as exc:
            raise KubeAccessError(f"in-cluster service account: {exc}") from None
    conf = merge(paths)
    name = context or conf.get("current-context")
    contexts = {c["name"]: c["context"] for c in conf["contexts"]}
    if not name:
        raise KubeAccessError(f"kubeconfig {where}: no current-context; pick one with --context "
                              f"(defined: {', '.join(contexts) or 'none'})")
    if name not in contexts:
        raise KubeAccessError(f"kubeconfig {where}: no context named {name!r} "
                              f"(defined: {', '.join(contexts) or 'none'})")
    ctx = contexts[name]
    for section, key in (("clusters", "cluster"), ("users", "user")):
        names = {e["name"] for e in conf[section]}
        if key == "cluster" or ctx.get(key):
            if ctx.get(key) not in names:
                raise KubeAccessError(f"kubeconfig {where}: context {name!r} names {key} {ctx.get(key)!r}, which "
                                      f"is not defined (defined: {', '.join(sorted(names)) or 'none'})")
    cluster = next(e["cluster"] for e in conf["clusters"] if e["name"] == ctx.get("cluster"))
    user = next((e["user"] for e in conf["users"] if e["name"] == ctx.get("user")), {})
    check_credentials(where, ctx.get("cluster"), cluster, ctx.get("user"), user)
    try:
        return KubeConfig.from_dict(conf, fname=paths[0]).get(context_name=name)
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise KubeAccessError(f"kubeconfig {where}: {exc}") from None


def _readable(where: str, what: str, file) -> bytes:
    try:
        with open(file, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise KubeAccessError(f"kubeconfig {where}: {what} {file}: no such file") from None
    except OSError as exc:
        raise KubeAccessError(f"kubeconfig {where}: {what} {file}: cannot read it ({exc.strerror})") from None


def check_credentials(where: str, cluster_name, cluster: dict, user_name, user: dict, now: datetime | None = None) -> None:
    """The files and commands the context needs exist and can be used: certificate authority, client
    certificate and key, token file, exec plugin; a client certificate has not expired."""
    if isinstance(cluster.get("certificate-authority"), str):
        _readable(where, f"cluster {cluster_name!r}: certificate-authority", cluster["certificate-authority"])
    for key in ("client-key", "tokenFile"):
        if isinstance(user.get(key), str):
            _readable(where, f"user {user_name!r}: {key}", user[key])
    certificate, named = None, ""
    if isinstance(user.get("client-certificate"), str):
        named = f"client-certificate {user['client-certificate']}"
        certificate = _readable(where, f"user {user_name!r}: client-certificate", user["client-certificate"])
    elif isinstance(user.get("client-certificate-data"), str):
        named = "client-certificate-data"
        try:
            certificate = base64.b64decode(user["client-certificate-data"], validate=True)
        except (binascii.Error, ValueError):
            raise KubeAccessError(f"kubeconfig {where}: user {user_name!r}: client-certificate-data is not "
                                  "base64") from None
    expiry = not_after(certificate) if certificate else None
    now = now or datetime.now(timezone.utc)
    if expiry is not None and expiry <= now:
        raise KubeAccessError(f"kubeconfig {where}: user {user_name!r}: {named} expired on "
                              f"{expiry:%Y-%m-%d %H:%M} UTC; renew it (kubeadm certs renew, or fetch the "
                              "cluster's kubeconfig again)")
    exec_ = user.get("exec") if isinstance(user.get("exec"), dict) else None
    command = exec_.get("command") if exec_ else None
    if isinstance(command, str) and shutil.which(command) is None:
        hint = " ".join(str(exec_.get("installHint") or "").split())
        where_to = "is not an executable file" if os.sep in command else "is not on PATH"
        raise KubeAccessError(f"kubeconfig {where}: user {user_name!r}: exec plugin {command!r} {where_to}"
                              + (f" ({hint})" if hint else ""))
