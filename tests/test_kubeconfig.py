"""Connecting as kubectl users expect: --kubeconfig, $KUBECONFIG (a list too), --context."""

import pytest

from sim.adapters.kube_client import KubeAccessError, load_config

CONFIG = """apiVersion: v1
kind: Config
current-context: prod
clusters:
  - {name: prod, cluster: {server: "https://prod.example:6443"}}
  - {name: lab, cluster: {server: "https://lab.example:6443"}}
users: [{name: u, user: {token: t}}]
contexts:
  - {name: prod, context: {cluster: prod, user: u}}
  - {name: lab, context: {cluster: lab, user: u, namespace: ops}}
"""


@pytest.fixture
def kubeconfig(tmp_path):
    path = tmp_path / "config"
    path.write_text(CONFIG)
    return str(path)


def test_explicit_file_and_context(kubeconfig):
    assert load_config(kubeconfig, None).cluster.server == "https://prod.example:6443"
    lab = load_config(kubeconfig, "lab")
    assert (lab.cluster.server, lab.namespace) == ("https://lab.example:6443", "ops")


def test_kubeconfig_environment_variable_and_list(kubeconfig, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    assert load_config(None, "lab").cluster.server == "https://lab.example:6443"
    monkeypatch.setenv("KUBECONFIG", f"{kubeconfig}:{tmp_path / 'other'}")  # kubectl merges; midair reads the first
    assert load_config(None, None).cluster.server == "https://prod.example:6443"


def test_unknown_context_and_missing_file_are_clear_errors(kubeconfig, tmp_path):
    with pytest.raises(KubeAccessError) as err:
        load_config(kubeconfig, "staging")
    assert str(err.value) == f"kubeconfig {kubeconfig}: Context 'staging' not found"
    with pytest.raises(KubeAccessError) as err:
        load_config(str(tmp_path / "nope"), None)
    assert str(err.value).startswith(f"kubeconfig {tmp_path / 'nope'}: ")
