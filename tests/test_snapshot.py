"""midair import and midair snapshot: a real cluster (or its dump) as a scenario that loads and runs."""

import pathlib

from sim.cli import main
from sim.scenario import load_scenario
from sim.simulate import simulate
from sim.simulate import world_for
from sim.version import midair_version
from tests.kube_harness import KubeHarness
from tests.kube_objects import POOL_LABEL, objects_from_world


def test_import_a_kubectl_dump(tmp_path, capsys):
    out = tmp_path / "eks.yaml"
    assert main(["import", "tests/data/kubectl-dump.json", "--out", str(out), "--target", "1.29.4"]) == 0
    err = capsys.readouterr().err
    assert "no control-plane pods in the dump; assuming the control plane runs 1.28.5-eks-5e0fdde" in err
    s = load_scenario(str(out))
    assert (str(s.cluster.version), str(s.target), [p.name for p in s.cluster.pools]) == (
        "1.28.5-eks-5e0fdde", "1.29.4", ["general"])
    assert [(n.name, str(n.kubelet), n.ready) for n in s.cluster.nodes] == [
        ("general-1", "1.28.5-eks-5e0fdde", True), ("general-2", "1.27.9-eks-5e0fdde", False)]
    assert sorted(w.key for w in s.cluster.workloads) == ["kube-system/coredns", "shop/checkout", "shop/redis",
                                                         "shop/scratch"]
    assert s.cluster.unobserved == ("cloud", "host")  # a dump shows neither: the scenario says so
    text = out.read_text()
    assert text.startswith(f"# midair scenario written by midair {midair_version()} from tests/data/kubectl-dump.json at ")


def test_import_anonymized_hides_names(tmp_path):
    out = tmp_path / "anon.yaml"
    assert main(["import", "tests/data/kubectl-dump.json", "--out", str(out), "--anonymize"]) == 0
    text = out.read_text()
    assert "checkout" not in text and "shop" not in text and "general" not in text
    s = load_scenario(str(out))
    assert [p.name for p in s.cluster.pools] == ["pool-1"]


def test_import_bad_input_is_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["import", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"midair import: {bad}:1: not JSON")
    assert main(["import", str(tmp_path / "missing.json")]) == 2


def test_snapshot_a_live_cluster_and_rehearse_it(tmp_path):
    scenario = load_scenario("scenarios/quickstart.yaml", ["faults=[]"])
    world = world_for(scenario, seed=1)
    with KubeHarness(objects_from_world(world), version="v1.29.8") as server:
        out = tmp_path / "snap.yaml"
        code = main(["snapshot", "--kubeconfig", server.kubeconfig(tmp_path / "kc"), "--out", str(out),
                     "--pool-label", POOL_LABEL, "--target", "1.31.2", "--name", "mine"])
        assert code == 0
    s = load_scenario(str(out))
    assert (s.name, str(s.cluster.version), str(s.target)) == ("mine", "1.29.8", "1.31.2")
    assert [(p.name, p.count) for p in s.cluster.pools] == [("general", 6), ("stateful", 3)]
    assert len(s.cluster.control_plane.apiservers) == 3
    assert {w.key: w.replicas for w in s.cluster.workloads} == {
        w.key: w.replicas for w in scenario.cluster.workloads}
    # the constraints, the zonal claim and the webhook come back as the scenario wrote them
    assert {w.key: (w.scheduling, w.storage) for w in s.cluster.workloads} == {
        w.key: (w.scheduling, w.storage) for w in scenario.cluster.workloads}
    assert s.cluster.webhooks == scenario.cluster.webhooks
    result = simulate(s, s.strategy("inplace"), seed=1)
    assert result.completed
    assert pathlib.Path(out).read_text().count("\n") > 20


def test_precheck_live_checks_the_cluster_of_a_context(tmp_path, capsys):
    import json

    scenario = load_scenario("scenarios/quickstart.yaml", ["faults=[]"])
    world = world_for(scenario, seed=1)
    with KubeHarness(objects_from_world(world), version="v1.29.8") as server:
        kc = server.kubeconfig(tmp_path / "kc")
        assert main(["precheck", "--live", "--kubeconfig", kc, "--to", "1.33.1", "--json"]) == 1
        found = json.loads(capsys.readouterr().out)["findings"]
        # what the API does not show (hosts, cloud) is listed as not observed, not passed unseen
        assert [(f["id"], f["severity"], f["subject"]) for f in found] == [
            ("core.cni-unsupported", "BLOCK", "addon/cni calico 3.29.1"),
            ("node.not-observed", "INFO", "cluster"), ("cloud.not-observed", "INFO", "cluster"),
            ("disruption.local-storage", "WARN", "workload/default/cache"),
            ("disruption.single-replica", "WARN", "workload/default/db"),
            ("admission.webhook-on-drained-nodes", "WARN", "webhook/validate.policy.example.com")]
        assert main(["precheck", "--live", "--kubeconfig", kc]) == 2
        assert capsys.readouterr().err == "midair precheck: --live without a scenario needs --to V, the target version\n"


def test_an_anonymized_export_keeps_what_selects_selecting():
    """Hashed label values and namespaces are hashed as the export hashes what they name: the web spread still
    selects web's pods, the webhook still spares kube-system and the policy controller's own namespace (whose
    name label is hashed as the namespace is), and a zone or a Gt bound stays as written."""
    from sim.scenario import load_scenario_text
    from sim.scenario.export import hashed as _hash
    from sim.scenario.export import scenario_from_state, to_yaml

    text = pathlib.Path("scenarios/quickstart.yaml").read_text().replace(
        "pool: general}\n  - {name: worker", "pool: general, affinity: {nodeAffinity: {"
        "requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: ["
        "{key: topology.kubernetes.io/zone, operator: In, values: [a, b]}, {key: gen, operator: Gt, values: ['3']}]}]}}}}"
        "\n  - {name: worker", 1)
    state = load_scenario_text(text, "quickstart.yaml").cluster
    data = scenario_from_state(state, "anon", anonymize=True, description="quickstart, anonymized")
    by_name = {w["name"]: w for w in data["workloads"]}
    web, api = by_name[_hash("w", "default/web")], by_name[_hash("w", "default/api")]
    assert web["labels"] == {"app": _hash("l", "web")}
    assert web["topologySpreadConstraints"][0]["labelSelector"] == {"matchLabels": {"app": _hash("l", "web")}}
    assert api["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a", "b"]},
            {"key": "gen", "operator": "Gt", "values": ["3"]}]}]}
    (hook,) = data["webhooks"]
    assert hook["namespaceSelector"] == {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", _hash("ns", "policy")]}]}
    assert hook["service"] == {"namespace": _hash("ns", "policy"), "workload": _hash("w", "policy/policy-controller")}
    again = load_scenario_text(to_yaml(data, "anonymized"), "anon.yaml").cluster
    assert [w.scheduling.spread[0].selector.matches({"app": _hash("l", "web")}) for w in again.workloads
            if w.scheduling.spread] == [True]
    assert again.webhooks[0].service == f"{_hash('ns', 'policy')}/{_hash('w', 'policy/policy-controller')}"
def test_a_namespace_keeps_only_its_workloads_and_every_node_s_pods(tmp_path):
    sets = ["faults=[]", "workloads[name=api].namespace=shop", "workloads[name=cache].namespace=shop"]
    world = world_for(load_scenario("scenarios/quickstart.yaml", sets), seed=1)
    with KubeHarness(objects_from_world(world), version="v1.29.8") as server:
        kc = server.kubeconfig(tmp_path / "kc")
        out = tmp_path / "shop.yaml"
        assert main(["snapshot", "--kubeconfig", kc, "-n", "shop", "--out", str(out), "--pool-label", POOL_LABEL]) == 0
        whole = tmp_path / "all.yaml"
        assert main(["snapshot", "--kubeconfig", kc, "--out", str(whole), "--pool-label", POOL_LABEL]) == 0
    shop, everything = load_scenario(str(out)), load_scenario(str(whole))
    assert sorted(w.key for w in shop.cluster.workloads) == ["shop/api", "shop/cache"]
    assert len(everything.cluster.workloads) == 8  # the seven and kube-system/coredns
    assert [(n.name, n.pods) for n in shop.cluster.nodes] == [(n.name, n.pods) for n in everything.cluster.nodes]
    assert len(shop.cluster.control_plane.apiservers) == 3  # the control plane is the whole cluster's
