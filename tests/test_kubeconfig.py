"""Connecting as kubectl users expect: --kubeconfig, $KUBECONFIG (a merged list), ~/.kube/config,
the in-cluster account last, --context; a broken kubeconfig is one clear error."""

import pytest

from sim.adapters.kube_client import KubeAccessError
from sim.adapters.kubeconfig import load_config

CONFIG = """apiVersion: v1
kind: Config
current-context: prod
clusters:
  - {name: prod, cluster: {server: "https://prod.example:6443", certificate-authority: ca.crt}}
  - {name: lab, cluster: {server: "https://lab.example:6443"}}
users: [{name: u, user: {token: t}}]
contexts:
  - {name: prod, context: {cluster: prod, user: u}}
  - {name: lab, context: {cluster: lab, user: u, namespace: ops}}
"""

OTHER = """apiVersion: v1
kind: Config
current-context: lab
clusters:
  - {name: prod, cluster: {server: "https://shadowed.example:6443"}}
  - {name: edge, cluster: {server: "https://edge.example:6443"}}
users: [{name: e, user: {token: x}}]
contexts: [{name: edge, context: {cluster: edge, user: e}}]
"""


@pytest.fixture
def kubeconfig(tmp_path):
    path = tmp_path / "config"
    path.write_text(CONFIG)
    return str(path)


@pytest.fixture(autouse=True)
def no_home_config(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def error(*args) -> str:
    with pytest.raises(KubeAccessError) as err:
        load_config(*args)
    return str(err.value)


def test_explicit_file_and_context(kubeconfig, tmp_path):
    prod = load_config(kubeconfig, None)
    assert prod.cluster.server == "https://prod.example:6443"
    assert str(prod.cluster.certificate_auth) == str(tmp_path / "ca.crt")  # relative to the kubeconfig
    lab = load_config(kubeconfig, "lab")
    assert (lab.cluster.server, lab.namespace) == ("https://lab.example:6443", "ops")


def test_a_kubeconfig_list_is_merged_first_definition_first(kubeconfig, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.write_text(OTHER)
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{kubeconfig}:{other}")
    assert load_config(None, None).cluster.server == "https://prod.example:6443"  # first current-context, first prod
    assert load_config(None, "edge").cluster.server == "https://edge.example:6443"  # only in the second file
    monkeypatch.setenv("KUBECONFIG", f"{other}:{kubeconfig}")
    assert load_config(None, None).cluster.server == "https://lab.example:6443"


def test_home_config_then_in_cluster_last(kubeconfig, tmp_path, monkeypatch):
    assert error(None, None) == ("no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    assert error(None, None).startswith("in-cluster service account: ")  # in a pod, but this machine has no token
    home = tmp_path / "home" / ".kube"
    home.mkdir(parents=True)
    (home / "config").write_text(CONFIG)
    assert load_config(None, None).cluster.server == "https://prod.example:6443"  # a home config wins over in-cluster


@pytest.mark.parametrize("text, message", [
    ("garbage: [", "{f}:1: not valid YAML (expected the node content, but found '<stream end>')"),
    ("- just\n- a list\n", "{f}: expected a mapping with clusters, users and contexts"),
    ("apiVersion: v1\n", "{f}: no current-context; pick one with --context (defined: none)"),
    ("current-context: c\ncontexts: [{name: c, context: {cluster: gone}}]\n",
     "{f}: context 'c' names cluster 'gone', which is not defined (defined: none)"),
    ("clusters: {prod: x}\n", "{f}: clusters must be a list of entries with a name"),
], ids=["yaml", "not-a-mapping", "no-context", "missing-cluster", "wrong-shape"])
def test_a_broken_kubeconfig_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad"
    path.write_text(text)
    assert error(str(path), None) == "kubeconfig " + message.format(f=path)


def test_unknown_context_and_missing_file_are_clear_errors(kubeconfig, tmp_path, monkeypatch):
    assert error(kubeconfig, "staging") == f"kubeconfig {kubeconfig}: no context named 'staging' (defined: prod, lab)"
    assert error(str(tmp_path / "nope"), None) == f"kubeconfig {tmp_path / 'nope'}: no such file"
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nope"))
    assert error(None, None) == f"KUBECONFIG={tmp_path / 'nope'}: none of its files exists"
