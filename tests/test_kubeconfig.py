"""Connecting as kubectl users expect: --kubeconfig, $KUBECONFIG (a merged list), ~/.kube/config,
the in-cluster account last, --context; a broken kubeconfig, or credentials that cannot be used
(files missing or unreadable, an exec plugin missing or failing, an expired certificate), is one
clear error naming the file or command, exit 3, no traceback."""

import base64
import pathlib
import shutil
import subprocess
import sys

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


CERTS = pathlib.Path("tests/data/certs").resolve()


@pytest.fixture
def kubeconfig(tmp_path):
    path = tmp_path / "config"
    path.write_text(CONFIG)
    shutil.copy(CERTS / "valid-until-2099.crt", tmp_path / "ca.crt")
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
    shutil.copy(CERTS / "valid-until-2099.crt", home / "ca.crt")
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


def with_user(user: str, cluster: str = "{server: https://prod.example:6443}") -> str:
    return f"""apiVersion: v1
kind: Config
current-context: c
clusters: [{{name: prod, cluster: {cluster}}}]
users: [{{name: u, user: {user}}}]
contexts: [{{name: c, context: {{cluster: prod, user: u}}}}]
"""


EXPIRED_DATA = base64.b64encode((CERTS / "expired.crt").read_bytes()).decode()


@pytest.mark.parametrize("user, cluster, message", [
    ("{token: t}", "{server: https://p:6443, certificate-authority: nope.crt}",
     "cluster 'prod': certificate-authority {d}/nope.crt: no such file"),
    ("{client-certificate: gone.crt, client-key: " + str(CERTS / "client.key") + "}", None,
     "user 'u': client-certificate {d}/gone.crt: no such file"),
    ("{client-certificate: " + str(CERTS / "valid-until-2099.crt") + ", client-key: gone.key}", None,
     "user 'u': client-key {d}/gone.key: no such file"),
    ("{tokenFile: token}", None, "user 'u': tokenFile {d}/token: no such file"),
    ("{tokenFile: " + "adir" + "}", None, "user 'u': tokenFile {d}/adir: cannot read it (Is a directory)"),
    ("{client-certificate: " + str(CERTS / "expired.crt") + ", client-key: " + str(CERTS / "client.key") + "}", None,
     "user 'u': client-certificate " + str(CERTS / "expired.crt") + " expired on 2020-01-02 00:00 UTC; renew it "
     "(kubeadm certs renew, or fetch the cluster's kubeconfig again)"),
    ("{client-certificate-data: " + EXPIRED_DATA + ", client-key: " + str(CERTS / "client.key") + "}", None,
     "user 'u': client-certificate-data expired on 2020-01-02 00:00 UTC; renew it (kubeadm certs renew, or fetch "
     "the cluster's kubeconfig again)"),
    ("{client-certificate-data: '%%%', client-key: " + str(CERTS / "client.key") + "}", None, "user 'u': client-certificate-data is not base64"),
    ("{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: no-such-midair-plugin, "
     "installHint: 'brew install   the-plugin'}}", None,
     "user 'u': exec plugin 'no-such-midair-plugin' is not on PATH (brew install the-plugin)"),
    ("{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./bin/plugin}}", None,
     "user 'u': exec plugin '{d}/bin/plugin' is not an executable file"),
], ids=["ca-missing", "client-cert-missing", "client-key-missing", "token-file-missing", "token-file-unreadable",
        "client-cert-expired", "client-cert-data-expired", "client-cert-data-not-base64", "exec-not-on-path",
        "exec-path-relative-to-kubeconfig"])
def test_credentials_that_cannot_be_used_are_one_error_naming_the_file(tmp_path, user, cluster, message):
    (tmp_path / "adir").mkdir()
    path = tmp_path / "config"
    path.write_text(with_user(user, cluster or "{server: https://prod.example:6443}"))
    assert error(str(path), None) == f"kubeconfig {path}: " + message.format(d=tmp_path)


def test_a_certificate_that_has_not_expired_is_accepted(tmp_path):
    path = tmp_path / "config"
    path.write_text(with_user("{client-certificate: " + str(CERTS / "valid-until-2099.crt") + ", client-key: "
                              + str(CERTS / "client.key") + "}"))
    assert load_config(str(path), None).user.client_cert == str(CERTS / "valid-until-2099.crt")


PLUGIN_FAILS = "#!/bin/sh\necho 'token expired: run aws sso login' >&2\nexit 1\n"
PLUGIN_GARBAGE = "#!/bin/sh\necho 'not json'\n"


@pytest.mark.parametrize("script, message", [
    (PLUGIN_FAILS, "the exec plugin '{plugin}' of the kubeconfig user failed: Exec {plugin} returned 1: "
                   "token expired: run aws sso login"),
    (PLUGIN_GARBAGE, "the exec plugin '{plugin}' of the kubeconfig user failed: its output is not an "
                     "ExecCredential with status.token"),
], ids=["plugin-fails", "plugin-prints-garbage"])
@pytest.mark.parametrize("command", [["snapshot"], ["precheck", "--live", "--to", "1.30.2"]], ids=["snapshot", "precheck"])
def test_an_exec_plugin_that_fails_is_exit_3_naming_it(tmp_path, script, message, command):
    plugin = tmp_path / "plugin"
    plugin.write_text(script)
    plugin.chmod(0o755)
    path = tmp_path / "config"
    path.write_text(with_user("{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./plugin}}",
                              "{server: 'http://127.0.0.1:9'}"))
    proc = subprocess.run([sys.executable, "-m", "sim.cli", *command, "--kubeconfig", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == f"midair {command[0]}: " + message.format(plugin=plugin) + "\n"


@pytest.mark.parametrize("command", [["snapshot"], ["precheck", "--live", "--to", "1.30.2"],
                                     ["apply", "scenarios/quickstart.yaml"]], ids=["snapshot", "precheck", "apply"])
def test_a_missing_certificate_is_exit_3_and_one_line(tmp_path, command):
    path = tmp_path / "config"
    path.write_text(with_user("{token: t}", "{server: https://p:6443, certificate-authority: ca.crt}"))
    proc = subprocess.run([sys.executable, "-m", "sim.cli", *command, "--kubeconfig", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == (f"midair {command[0]}: kubeconfig {path}: cluster 'prod': certificate-authority "
                           f"{tmp_path}/ca.crt: no such file\n")


@pytest.mark.parametrize("text, seconds", [("30s", 30.0), ("2m", 120.0), ("45", 45.0), ("0", None), ("500ms", 0.5)],
                         ids=["seconds", "minutes", "plain-number", "zero-is-none", "milliseconds"])
def test_request_timeout_reads_as_kubectl_does(text, seconds):
    from sim.commands.live_common import request_timeout

    assert request_timeout(text) == seconds


@pytest.mark.parametrize("argv, message", [
    (["snapshot", "--request-timeout", "soon"],
     "midair snapshot: --request-timeout 'soon': expected a duration such as 10s, 2m or 1h (0 for none)\n"),
    (["snapshot", "--request-timeout=-5s"],
     "midair snapshot: --request-timeout '-5s': expected a duration such as 10s, 2m or 1h (0 for none)\n"),
    (["precheck", "--live", "--to", "1.30.2", "--as-group", "ops"],
     "midair precheck: --as-group needs --as USER: the API impersonates a user and, optionally, their groups\n"),
], ids=["not-a-duration", "negative", "group-without-user"])
def test_connection_options_that_cannot_be_used_are_exit_2(argv, message):
    proc = subprocess.run([sys.executable, "-m", "sim.cli", *argv], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (2, message)
