"""Helm 3 releases stored in the cluster, decoded and scanned for removed APIs by `precheck --live` and
kept by `snapshot` for a later `precheck`, each finding naming its release."""

import base64
import gzip
import json

import pytest

from sim.adapters.helm import decode_release, deployed_releases, release_refs
from sim.cli import main
from sim.scenario import load_scenario
from sim.simulate import world_for
from tests.kube_fake import requests_to
from tests.kube_harness import KubeHarness
from tests.kube_objects import objects_from_world

MANIFEST = """---
# Source: web/templates/ingress.yaml
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: web
---
# Source: web/templates/pdb.yaml
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata:
  name: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
"""


def helm_secret(namespace, name, revision, status, manifest=MANIFEST, gzipped=True, kind="helm.sh/release.v1"):
    body = json.dumps({"name": name, "namespace": namespace, "version": revision, "info": {"status": status},
                       "chart": {"metadata": {"name": "web", "version": "1.2.0"}}, "manifest": manifest}).encode()
    stored = base64.b64encode(gzip.compress(body) if gzipped else body)
    return {"apiVersion": "v1", "kind": "Secret", "type": kind,
            "metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": namespace,
                         "labels": {"owner": "helm", "name": name, "status": status, "version": str(revision)}},
            "data": {"release": base64.b64encode(stored).decode()}}


@pytest.mark.parametrize("secret, decoded", [
    (helm_secret("shop", "web", 3, "deployed"), ("shop", "web", 3, "deployed", "web-1.2.0")),
    (helm_secret("shop", "web", 2, "superseded", gzipped=False), ("shop", "web", 2, "superseded", "web-1.2.0")),
    (helm_secret("shop", "web", 1, "deployed", kind="Opaque"),
     "secret shop/sh.helm.release.v1.web.v1: not a Helm 3 release (type helm.sh/release.v1 with data.release)"),
    ({**helm_secret("shop", "web", 1, "deployed"), "data": {"release": base64.b64encode(b"%%%").decode()}},
     "secret shop/sh.helm.release.v1.web.v1: its release data is not base64-encoded, gzipped JSON"),
], ids=["gzipped", "plain-json", "not-a-release", "garbage"])
def test_a_release_secret_is_decoded(secret, decoded):
    release = decode_release(secret)
    if isinstance(decoded, str):
        assert release == decoded
    else:
        assert (release.namespace, release.name, release.revision, release.status, release.chart) == decoded
        assert release.manifest == MANIFEST


def test_only_the_latest_deployed_revision_of_each_release_is_scanned():
    secrets = [helm_secret("shop", "web", 1, "deployed"), helm_secret("shop", "web", 3, "deployed"),
               helm_secret("shop", "web", 4, "failed"), helm_secret("shop", "web", 2, "superseded"),
               helm_secret("ops", "agent", 7, "deployed", manifest="kind: ConfigMap\napiVersion: v1\n")]
    releases, problems = deployed_releases(secrets)
    assert ([(r.key, r.revision) for r in releases], problems) == ([("ops/agent", 7), ("shop/web", 3)], [])
    refs, _ = release_refs(releases)
    assert [(r.file, r.line, r.api_version, r.kind, r.name, r.release) for r in refs] == [
        ("helm release ops/agent revision 7", 2, "v1", "ConfigMap", "", "ops/agent"),
        ("helm release shop/web revision 3", 3, "extensions/v1beta1", "Ingress", "web", "shop/web"),
        ("helm release shop/web revision 3", 9, "policy/v1beta1", "PodDisruptionBudget", "web", "shop/web"),
        ("helm release shop/web revision 3", 14, "apps/v1", "Deployment", "web", "shop/web")]


@pytest.fixture
def cluster():
    world = world_for(load_scenario("scenarios/quickstart.yaml", ["faults=[]"]), seed=1)
    objects = objects_from_world(world)
    for secret in (helm_secret("shop", "web", 2, "superseded"), helm_secret("shop", "web", 3, "deployed")):
        objects[("v1/secrets", "shop", secret["metadata"]["name"])] = secret
    with KubeHarness(objects, version="v1.29.8") as api:
        yield api


REMOVED = [("apis.removed", "BLOCK", "helm release shop/web revision 3:3",
            "Helm release shop/web: Ingress web uses extensions/v1beta1, removed in 1.22"),
           ("apis.removed", "BLOCK", "helm release shop/web revision 3:9",
            "Helm release shop/web: PodDisruptionBudget web uses policy/v1beta1, removed in 1.25")]


def test_precheck_live_finds_removed_apis_in_helm_releases_and_names_them(cluster, tmp_path, capsys):
    assert main(["precheck", "--live", "--kubeconfig", cluster.kubeconfig(tmp_path / "kc"), "--to", "1.30.4",
                 "--json"]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["id"], f["severity"], f["subject"], f["reason"]) for f in found if f["id"].startswith("apis.")] == REMOVED
    assert [f["fix"] for f in found if f["id"] == "apis.removed"][0] == (
        "migrate it to networking.k8s.io/v1 in the release's chart, then upgrade the release (helm mapkubeapis "
        "rewrites a stored release)")
    (listing,) = [r for r in cluster.midair_requests() if r.url.path == "/api/v1/secrets"]
    assert listing.params["labelSelector"] == "owner=helm"


def test_without_access_to_secrets_the_check_goes_on_without_helm(cluster, tmp_path, capsys):
    cluster.fail(requests_to("GET", "/api/v1/secrets"), status=403, retry_after=None)
    assert main(["precheck", "--live", "--kubeconfig", cluster.kubeconfig(tmp_path / "kc"), "--to", "1.30.4"]) == 0
    captured = capsys.readouterr()
    assert "apis.removed" not in captured.out
    assert captured.err.splitlines() == [
        "left out secrets: the API refused to list secrets (HTTP 403: Forbidden: scripted by the test harness); grant "
        "midair the ClusterRole in deploy/rbac.yaml (docs/live.md)"]


def test_a_snapshot_keeps_the_releases_objects_for_a_later_precheck(cluster, tmp_path, capsys):
    out = tmp_path / "snap.yaml"
    assert main(["snapshot", "--kubeconfig", cluster.kubeconfig(tmp_path / "kc"), "--out", str(out)]) == 0
    helm = tmp_path / "snap.helm.yaml"
    assert helm.read_text().startswith("# helm release shop/web revision 3 (chart web-1.2.0)\napiVersion: "
                                       "extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n"
                                       "    meta.helm.sh/release-name: web\n    meta.helm.sh/release-namespace: shop\n---")
    assert load_scenario(str(out)).manifests == (str(helm),)
    capsys.readouterr()
    assert main(["precheck", str(out), "--to", "1.30.4", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["subject"], f["reason"]) for f in found if f["id"] == "apis.removed"] == [
        (f"{helm}:2", "Helm release shop/web: Ingress web uses extensions/v1beta1, removed in 1.22"),
        (f"{helm}:10", "Helm release shop/web: PodDisruptionBudget web uses policy/v1beta1, removed in 1.25")]


def test_an_anonymized_snapshot_hides_the_release_and_object_names(cluster, tmp_path):
    out = tmp_path / "anon.yaml"
    assert main(["snapshot", "--kubeconfig", cluster.kubeconfig(tmp_path / "kc"), "--out", str(out), "--anonymize"]) == 0
    text = (tmp_path / "anon.helm.yaml").read_text()
    assert "web" not in text and "shop" not in text
    assert text.count("apiVersion: extensions/v1beta1") == 1
