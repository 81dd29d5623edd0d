"""The manifest scanner on real-shaped files: Helm-rendered multi-document YAML with comments,
a kubectl List, JSON, a directory, and a broken file."""

import json

from sim.manifests import scan


def test_helm_rendered_output_gives_file_and_line(tmp_path):
    f = tmp_path / "rendered.yaml"
    f.write_text("""---
# Source: shop/templates/ingress.yaml
# a comment about it
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: shop
---
---
# Source: shop/templates/hpa.yaml
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata: {name: checkout}
spec: {}
""")
    refs, problems = scan([str(f)])
    assert [(r.line, r.api_version, r.kind, r.name) for r in refs] == [
        (4, "extensions/v1beta1", "Ingress", "shop"), (11, "autoscaling/v2beta2", "HorizontalPodAutoscaler", "checkout")]
    assert problems == []


def test_lists_json_and_directories(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "list.yaml").write_text("""apiVersion: v1
kind: List
items:
  - apiVersion: policy/v1beta1
    kind: PodDisruptionBudget
    metadata: {name: x}
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {name: y}
""")
    (tmp_path / "a" / "obj.json").write_text(json.dumps({"apiVersion": "apps/v1beta2", "kind": "Deployment",
                                                         "metadata": {"name": "z"}}, indent=1))
    (tmp_path / "a" / "notes.txt").write_text("not a manifest")
    refs, problems = scan([str(tmp_path)])
    assert [(r.file.rsplit("/", 1)[-1], r.line, r.kind, r.name) for r in refs] == [
        ("list.yaml", 4, "PodDisruptionBudget", "x"), ("list.yaml", 7, "CronJob", "y"), ("obj.json", 2, "Deployment", "z")]
    assert problems == []


def test_broken_and_missing_files_are_problems_not_crashes(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\ndata: {a: [1,\n")
    refs, problems = scan([str(bad), str(tmp_path / "missing")])
    assert refs == []
    assert [(p[0].rsplit("/", 1)[-1], p[1], p[2].split(":")[0]) for p in problems] == [
        ("bad.yaml", 4, "not valid YAML"), ("missing", 0, "no such file or directory")]


def test_a_broken_document_does_not_hide_the_next_ones(tmp_path):
    f = tmp_path / "helm.yaml"
    f.write_text("""# Source: shop/templates/psp.yaml
apiVersion: extensions/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
---
# Source: shop/templates/broken.yaml
apiVersion: v1
kind: ConfigMap
data: {a: [1,
---
# Source: shop/templates/cron.yaml
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: after-broken}
""")
    refs, problems = scan([str(f)])
    assert [(r.line, r.api_version, r.kind, r.name) for r in refs] == [
        (2, "extensions/v1beta1", "PodSecurityPolicy", "restricted"), (12, "batch/v1beta1", "CronJob", "after-broken")]
    assert [(p[1], p[2]) for p in problems] == [(10, "not valid YAML: expected the node content, but found '<stream end>'")]
