"""Every class of scenario error names the file, the line and the field, and says what would be valid."""

import pathlib
import re

import pytest

from sim.scenario import InputError, load_scenario, load_scenario_text
from tests.scenario_text import BASE, edit


def problems(tmp_path, text, sets=()):
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(InputError) as err:
        load_scenario(str(f), sets)
    return [str(p).replace(str(f), "s.yaml") for p in err.value.problems]


DB = "  - {name: db, kind: StatefulSet, replicas: 1, localStorage: true}"
DB_WITH = "  - {{name: db, kind: StatefulSet, replicas: 1, {}}}"
NODE_TERM = ("affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: "
             "[{{matchExpressions: [{}]}}]}}}}}}")
WEBHOOK = "webhooks: [{{name: v.io, rules: [{{operations: [CREATE], resources: [pods]}}], {}}}]\ntarget:"

CASES = [
    ("yaml-syntax", edit("  cloud: {subnetFreeIPs: 20}", "  cloud: {subnetFreeIPs: 20"),
     ["s.yaml:18: (yaml): while parsing a flow mapping, expected ',' or '}', but got ':'; "
      "fix the YAML syntax here or above, from line 17 where that began"]),
    ("unknown-field", edit("    replicas: 6", "    replica: 6"),
     ["s.yaml:21: workloads[0].replica: unknown field 'replica'; did you mean 'replicas'? valid fields here: "
      "name, kind, namespace, replicas, cpu, memory, pdb, startupSeconds, imagePullSeconds, localStorage, phase, pool, "
      "gracePeriodSeconds, preStopSeconds, podManagementPolicy, labels, nodeSelector, affinity, tolerations, topologySpreadConstraints, "
      "priorityClassName, storage"]),
    ("wrong-type", edit("      count: 6", "      count: six"),
     ["s.yaml:9: cluster.nodePools[0].count: expected a whole number from 0 to 5000, got the text 'six'"]),
    ("bad-quantity", edit("    memory: 512Mi", "    memory: 512Mx"),
     ["s.yaml:23: workloads[0].memory: memory '512Mx' has an unknown suffix 'Mx' "
      "(valid suffixes: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei)"]),
    ("bad-version", edit('  version: "1.27.4"', '  version: "1.27.x"'),
     ["s.yaml:5: cluster.version: not a Kubernetes version: '1.27.x' "
      "(expected MAJOR.MINOR[.PATCH], e.g. 'v1.29.3', '1.29', '1.30.0-rc.1')"]),
    ("impossible-version", edit('target: "1.29.0"', 'target: "1.99.0"'),
     ["s.yaml:28: target: Kubernetes 1.99 does not exist as far as midair knows; valid: 1.0 to 1.37 "
      "(newest with data: 1.35)"]),
    ("not-kubernetes-major", edit('target: "1.29.0"', 'target: "2.0.0"'),
     ['s.yaml:28: target: 2.0.0 is not a Kubernetes version; Kubernetes versions are 1.x (e.g. "1.29.3")']),
    ("negative-count", edit("      count: 6", "      count: -1"),
     ["s.yaml:9: cluster.nodePools[0].count: -1 is negative; expected a whole number from 0 to 5000"]),
    ("pdb-count-as-text", edit("pdb: {minAvailable: 4}", "pdb: {minAvailable: '4'}"),
     ["s.yaml:24: workloads[0].pdb.minAvailable: '4' is text, and text must be a percentage: write the count 4 as a "
      "number (unquoted) or the percentage as '4%'"]),
    ("pdb-both-fields", edit("pdb: {minAvailable: 4}", "pdb: {minAvailable: 4, maxUnavailable: 1}"),
     ["s.yaml:24: workloads[0].pdb: set one of minAvailable or maxUnavailable, not both (policy/v1 allows only one)"]),
    ("target-older", edit('target: "1.29.0"', 'target: "1.26.3"'),
     ["s.yaml:28: target: target 1.26.3 is older than the cluster's control plane 1.27.4; "
      "midair rehearses upgrades (valid: 1.27.4 or newer)"]),
    ("unknown-strategy", edit("{name: inplace, maxUnavailable: 1}", "{name: inplase, maxUnavailable: 1}"),
     ["s.yaml:29: strategies[0].name: unknown strategy 'inplase'; known: bluegreen, inplace, karpenter-drift, replace, surge "
      "(or a class as module:attr); "
      "did you mean 'inplace'?"]),
    ("unknown-strategy-param", edit("{name: inplace, maxUnavailable: 1}", "{name: inplace, maxUnavialable: 1}"),
     ["s.yaml:29: strategies[0].maxUnavialable: unknown parameter 'maxUnavialable' for strategy 'inplace'; "
      "did you mean 'maxUnavailable'? valid: maxSurge, maxUnavailable, drainTimeout, undrainable, soakSeconds, validate, "
      "validateTimeout, order, controlPlaneSurge, drain, unavailableRounding, addons, poolOrder, poolSoakSeconds, "
      "promotionGate, canary, canarySoakSeconds, maintenanceWindows, pauseAutoscaler, oldNodes, inplaceRetries, "
      "onInplaceFailure, drainFirst"]),
    ("surge-and-unavailable-zero", edit("maxSurge: 1, maxUnavailable: 0", "maxSurge: 0, maxUnavailable: 0"),
     ["s.yaml:29: strategies[1]: maxSurge and maxUnavailable cannot both be 0: no node could ever be replaced; "
      "set maxSurge or maxUnavailable to 1 or more"]),
    ("unknown-pool", edit("    startupSeconds: 15", "    startupSeconds: 15\n    pool: genral"),
     ["s.yaml:26: workloads[0].pool: no node pool named 'genral'; did you mean 'general'? valid: general"]),
    ("daemonset-replicas", edit("{name: node-exporter, kind: DaemonSet}", "{name: node-exporter, kind: DaemonSet, replicas: 3}"),
     ["s.yaml:27: workloads[2].replicas: a DaemonSet runs one pod per eligible node; remove replicas"]),
    ("wrong-kind", edit("kind: Scenario", "kind: Scenaro"),
     ["s.yaml:2: kind: 'Scenaro' is not one of the choices; did you mean 'Scenario'? valid: Scenario"]),
    ("missing-required", edit("target: \"1.29.0\"\n", ""),
     ["s.yaml:1: target: missing required field 'target' (version, e.g. \"1.29.3\")"]),
    ("duplicate-key", edit("      count: 6", "      count: 6\n      count: 7"),
     ["s.yaml:10: cluster.nodePools[0].count: this key appears twice in the same mapping; keep one"]),
    ("zero-eviction-retry", edit("seed: 42", "seed: 42\ntiming: {evictionRetry: 0}"),
     ["s.yaml:33: timing.evictionRetry: 0s would make the simulation spin without time passing; give a duration "
      "above 0, e.g. 5s"]),
    ("count-past-the-limit", edit("      count: 6", "      count: 5001"),
     ["s.yaml:9: cluster.nodePools[0].count: 5001 is too large; expected a whole number from 0 to 5000 (Kubernetes "
      "supports clusters of up to 5,000 nodes and 150,000 pods)"]),
    ("pods-past-the-limit", edit("    replicas: 6", "    replicas: 149999"),
     ["s.yaml:18: workloads: the workloads add up to 150006 pods (DaemonSets once per node); Kubernetes supports "
      "clusters of up to 5,000 nodes and 150,000 pods"]),
    ("negative-rate", edit("faults: []", "faults: [{type: node-crash, rate: -2}]"),
     ["s.yaml:30: faults[0].rate: -2 is out of range; expected a number of 0 or more"]),
    ("infinite-rate", edit("faults: []", "faults: [{type: node-crash, rate: .inf}]"),
     ["s.yaml:30: faults[0].rate: inf is not a finite number; expected a number of 0 or more"]),
    ("not-a-number-factor", edit("faults: []", "faults: [{type: slow-image-pull, factor: .nan}]"),
     ["s.yaml:30: faults[0].factor: nan is not a finite number; expected a number above 0"]),
    ("huge-rate", edit("faults: []", "faults: [{type: node-crash, rate: 1" + "0" * 400 + "}]"),
     ["s.yaml:30: faults[0].rate: 100000000000... (401 digits) is too large for a number; expected a number of 0 or more"]),
    ("huge-at", edit("faults: []", "faults: [{type: node-crash, at: 1" + "0" * 400 + "}]"),
     ["s.yaml:30: faults[0].at: 100000000000... (401 digits) is too large for a duration"]),
    ("zero-factor", edit("faults: []", "faults: [{type: slow-image-pull, factor: 0}]"),
     ["s.yaml:30: faults[0].factor: 0 is out of range; expected a number above 0"]),
    ("order-pool", edit("{name: inplace, maxUnavailable: 1}", "{name: inplace, maxUnavailable: 1, order: pool}"),
     ["s.yaml:29: strategies[0].order: 'pool' is not one of the choices; valid: name, zone, least-loaded"]),
    ("bad-enum-bool", edit("seed: 42", "seed: 42\nsafety: maybe"),
     ["s.yaml:33: safety: 'maybe' is not one of the choices; valid: on, off"]),
    # scheduling constraints, storage and webhooks: Kubernetes' own validation rules, each at its line
    ("toleration-exists-with-value", edit(DB, DB_WITH.format("tolerations: [{key: gpu, operator: Exists, value: 'true'}]")),
     ["s.yaml:26: workloads[1].tolerations[0].value: a toleration with operator Exists takes no value (it tolerates "
      "every value of the key); remove value, or use operator Equal"]),
    ("toleration-seconds-without-no-execute",
     edit(DB, DB_WITH.format("tolerations: [{key: gpu, effect: NoSchedule, tolerationSeconds: 30}]")),
     ["s.yaml:26: workloads[1].tolerations[0].tolerationSeconds: tolerationSeconds applies to NoExecute taints only; "
      "valid: effect: NoExecute"]),
    ("toleration-without-key", edit(DB, DB_WITH.format("tolerations: [{effect: NoSchedule}]")),
     ["s.yaml:26: workloads[1].tolerations[0].operator: a toleration without a key must be operator: Exists (it then "
      "tolerates every taint)"]),
    ("unknown-priority-class", edit("target:", "priorityClasses: [{name: critical, value: 1000}]\ntarget:",
                                    edit(DB, DB_WITH.format("priorityClassName: critcal"))),
     ["s.yaml:26: workloads[1].priorityClassName: no PriorityClass named 'critcal'; did you mean 'critical'? valid: "
      "system-node-critical, system-cluster-critical, critical (declare it under priorityClasses)"]),
    ("in-without-values", edit(DB, DB_WITH.format(NODE_TERM.format("{key: zone, operator: In}"))),
     ["s.yaml:26: workloads[1].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
      "[0].matchExpressions[0].values: operator In needs at least one value (In and NotIn take values; Exists and "
      "DoesNotExist take none; Gt and Lt one whole number)"]),
    ("gt-not-a-number", edit(DB, DB_WITH.format(NODE_TERM.format("{key: gen, operator: Gt, values: [five]}"))),
     ["s.yaml:26: workloads[1].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
      "[0].matchExpressions[0].values: operator Gt needs exactly one value, a whole number (In and NotIn take values; "
      "Exists and DoesNotExist take none; Gt and Lt one whole number)"]),
    ("min-domains-schedule-anyway", edit(DB, DB_WITH.format(
        "topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, "
        "whenUnsatisfiable: ScheduleAnyway, minDomains: 3}]")),
     ["s.yaml:26: workloads[1].topologySpreadConstraints[0].minDomains: minDomains applies only to "
      "whenUnsatisfiable: DoNotSchedule"]),
    ("storage-and-local-storage", edit(DB, DB_WITH.format("localStorage: true, storage: {class: zonal}")),
     ["s.yaml:26: workloads[1].localStorage: give either localStorage: true or storage, not both (localStorage: true "
      "is storage: {class: local})"]),
    ("zonal-daemonset", edit("{name: node-exporter, kind: DaemonSet}",
                             "{name: node-exporter, kind: DaemonSet, storage: {class: zonal}}"),
     ["s.yaml:27: workloads[2].storage.class: a DaemonSet's pods, one on every node, cannot share one ReadWriteOnce "
      "volume; valid: shared, local"]),
    ("webhook-without-its-workload", edit("target:", WEBHOOK.format("service: {namespace: policy, workload: policy}")),
     ["s.yaml:28: webhooks[0].service.workload: no workload policy/policy serves this webhook; valid: default/db, "
      "default/node-exporter, default/web"]),
    ("webhook-timeout-too-long", edit("target:", WEBHOOK.format("timeoutSeconds: 60")),
     ["s.yaml:28: webhooks[0].timeoutSeconds: 60 is too large; expected a whole number from 1 to 30"]),
    ("pool-taint-twice", edit("      zones: [a, b, c]", "      zones: [a, b, c]\n      taints: [{key: gpu, effect: "
                                                         "NoSchedule}, {key: gpu, effect: NoSchedule}]"),
     ["s.yaml:15: cluster.nodePools[0].taints[1]: taint gpu:NoSchedule is given twice; a node has one taint per key "
      "and effect"]),
    ("system-priority-class-name", edit("target:", "priorityClasses: [{name: system-mine, value: 1000}]\ntarget:"),
     ["s.yaml:28: priorityClasses[0].name: 'system-mine': names starting with system- are reserved for the system's "
      "classes (system-node-critical, system-cluster-critical)"]),
    ("priority-too-high", edit("target:", "priorityClasses: [{name: mine, value: 2000000000}]\ntarget:"),
     ["s.yaml:28: priorityClasses[0].value: 2000000000 is too large; expected a whole number from -2147483648 to "
      "1000000000 (user-defined PriorityClasses go up to 1,000,000,000; higher values are the system's)"]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error(tmp_path, text, expected):
    assert problems(tmp_path, text) == expected


def test_all_errors_of_a_file_are_reported_at_once_in_line_order(tmp_path):
    text = edit("      count: 6", "      count: -1")
    text = edit("    memory: 512Mi", "    memory: 512Mx", text)
    text = edit('target: "1.29.0"', 'target: "1.29.x"', text)
    found = problems(tmp_path, text)
    assert [p.split(":")[1] for p in found] == ["9", "23", "28"]
    assert [p.split(": ")[1] for p in found] == ["cluster.nodePools[0].count", "workloads[0].memory", "target"]


def test_a_bad_field_does_not_hide_the_workloads_other_errors(tmp_path):
    text = edit("    cpu: 500m", "    cpu: 500x")
    text = edit("pdb: {minAvailable: 4}", "pdb: {minAvailable: '9'}", text)
    assert problems(tmp_path, text) == [
        "s.yaml:22: workloads[0].cpu: cpu '500x' has an unknown suffix 'x' (valid suffixes: m, k, M, G, T, P, E, Ki, "
        "Mi, Gi, Ti, Pi, Ei)",
        "s.yaml:24: workloads[0].pdb.minAvailable: '9' is text, and text must be a percentage: write the count 9 as "
        "a number (unquoted) or the percentage as '9%'"]


def test_a_min_available_above_the_replicas_is_accepted_as_the_api_accepts_it(tmp_path):
    # ValidatePodDisruptionBudgetSpec checks only a count of 0 or more or a percent up to 100%: a budget that
    # wants more pods than the workload runs is valid, and blocks every drain (disruption.pdb-never-allows)
    f = tmp_path / "s.yaml"
    f.write_text(edit("pdb: {minAvailable: 4}", "pdb: {minAvailable: 7}"))
    (web,) = [w for w in load_scenario(str(f)).cluster.workloads if w.name == "web"]
    assert (web.replicas, str(web.pdb.min_available)) == (6, "7")


def test_set_errors_name_the_argument(tmp_path):
    assert problems(tmp_path, BASE, ["cluster.controlPlane.apiservers=0"]) == [
        "--set cluster.controlPlane.apiservers=0: cluster.controlPlane.apiservers: 0 is too small; "
        "expected a whole number of 1 or more"]
    assert problems(tmp_path, BASE, ["strategies[5].maxUnavailable=1"]) == [
        "--set strategies[5].maxUnavailable=1: strategies[5]: index 5 is out of range; this list has 2 item(s)"]
    assert problems(tmp_path, BASE, ["workloads[name=api].replicas=2"]) == [
        "--set workloads[name=api].replicas=2: workloads: no item with name=api; items have name: web, db, node-exporter"]
    assert problems(tmp_path, BASE, ["cluster.foo.bar=1"]) == [  # a field the --set made up, not the file's
        "--set cluster.foo.bar=1: cluster.foo: unknown field 'foo'; valid fields here: version, controlPlane, "
        "nodePools, addons, cloud, apiServices, unobserved"]
    assert problems(tmp_path, BASE, ["a..b=1"]) == [
        "--set a..b=1: a..b: 'a..b' has an empty field name (two dots, or a dot at an end); expected e.g. "
        "cluster.controlPlane.apiservers"]
    assert problems(tmp_path, BASE, ["runs"]) == [
        "--set runs: (--set): expected PATH=VALUE, e.g. --set cluster.controlPlane.apiservers=1"]


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError) as err:
        load_scenario(str(tmp_path / "nope.yaml"))
    assert str(err.value) == f"{tmp_path / 'nope.yaml'}: (file): no such file; give the path of a scenario YAML file"
    with pytest.raises(InputError) as err:
        load_scenario(str(tmp_path))
    assert str(err.value).endswith("(file): this is a directory; give the path of a scenario YAML file")


def test_empty_file_and_non_mapping(tmp_path):
    assert problems(tmp_path, "") == ["s.yaml:1: (top level): the file is empty; expected a Scenario mapping"]
    assert problems(tmp_path, "- a\n- b\n")[0].startswith("s.yaml:1: (top level): expected a Scenario (a mapping with fields apiVersion")


def test_a_number_in_exponent_form_is_a_number():
    # YAML 1.2 reads 2e-3 as a number; PyYAML (YAML 1.1) reads it as text unless it has a dot
    faults = "faults: [{type: node-crash, rate: 2e-3}, {type: node-crash, at: 2e3, duration: 1.5e2s}]"
    scenario = load_scenario_text(edit("faults: []", faults), "s.yaml")
    assert (scenario.faults[0].rate, scenario.faults[1].at) == (0.002, 2000.0)
    assert scenario.faults[1].duration.params == (150.0,)


BOMB = "".join(f"{k}: &{k} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['x'] * 9)}]\n"
               for k, p in zip("abcdefghi", ["", *"abcdefgh"]))


@pytest.mark.parametrize("text, sets, expected", [
    (edit("faults: []", "faults: &f [{type: node-crash, at: 10m, limit: *f}]"), (),
     ["s.yaml:30: faults[0].limit: this alias refers to a value that contains it (anchored at line 30); a scenario "
      "must be a tree: write the value out"]),
    (BASE, ["metadata=&m {name: *m}"],
     ["--set metadata=&m {name: *m}: name: this alias refers to a value that contains it (anchored at line 1); a "
      "scenario must be a tree: write the value out"]),
    (BASE + BOMB, (),
     ["s.yaml:37: e[0][2][0][6][7]: aliases expand this file by more than 10,000 values (aliases of aliases?); write "
      "the repeated values out, or alias less"]),
    (edit("metadata: {name: example}", "metadata: {<<: [3], name: example}"), (),
     ["s.yaml:3: metadata.<<: a merge key takes a mapping or a list of mappings, e.g. <<: *defaults"]),
    (edit("metadata: {name: example}", "metadata: &m {<<: *m, name: example}"), (),
     ["s.yaml:3: metadata.<<: this merge brings in the mapping that contains it; a scenario must be a tree"]),
], ids=["recursive-alias", "recursive-alias-in-set", "alias-bomb", "merge-of-a-number", "recursive-merge"])
def test_aliases_that_never_end_are_one_clear_error(tmp_path, text, sets, expected):
    assert problems(tmp_path, text, sets) == expected


def test_an_ordinary_alias_is_its_value():
    text = edit("  nodePools:\n    - name: general", "  nodePools:\n    - &pool\n      name: general")
    text = text.replace("  addons:", "    - {<<: *pool, name: extra, count: 2}\n  addons:", 1)
    scenario = load_scenario_text(text, "s.yaml")
    assert [(p.name, p.count, p.allocatable.cpu_m) for p in scenario.cluster.pools] == [
        ("general", 6, 8000), ("extra", 2, 8000)]


# Two problems in one list item (or one part of the cluster): both are reported, whichever
# kind they are (a bad value, a rule across fields, a name that does not exist).
EVERY_ERROR_OF_AN_ITEM = [
    ("pool-bad-count-and-taken-name", edit("  addons:", "    - {name: general, count: x}\n  addons:"),
     ["s.yaml:16: cluster.nodePools[1].count: expected a whole number from 0 to 5000, got the text 'x'",
      "s.yaml:16: cluster.nodePools[1].name: a node pool named 'general' already exists; pool names must be unique"]),
    ("pool-bad-cpu-and-unknown-node", edit('      cpu: "8"', '      cpu: "8x"\n      nodes: [{name: general-9}]'),
     ["s.yaml:11: cluster.nodePools[0].cpu: cpu '8x' has an unknown suffix 'x' (valid suffixes: m, k, M, G, T, P, E, "
      "Ki, Mi, Gi, Ti, Pi, Ei)",
      "s.yaml:12: cluster.nodePools[0].nodes[0].name: pool 'general' has no node 'general-9'; valid: general-1 to "
      "general-6"]),
    ("node-override-bad-ready-and-version", edit('      cpu: "8"', '      cpu: "8"\n      nodes: [{name: general-1, '
                                                                   'ready: maybe, version: "1.99.0"}]'),
     ["s.yaml:12: cluster.nodePools[0].nodes[0].ready: expected true or false, got the text 'maybe'",
      "s.yaml:12: cluster.nodePools[0].nodes[0].version: Kubernetes 1.99 does not exist as far as midair knows; "
      "valid: 1.0 to 1.37 (newest with data: 1.35)"]),
    ("instance-bad-version-and-unknown-name",
     edit("  controlPlane: {apiservers: 3}", "  controlPlane: {apiservers: 3, instances: [{name: nope, version: x}]}"),
     ["s.yaml:6: cluster.controlPlane.instances[0].version: not a Kubernetes version: 'x' (expected "
      "MAJOR.MINOR[.PATCH], e.g. 'v1.29.3', '1.29', '1.30.0-rc.1')",
      "s.yaml:6: cluster.controlPlane.instances[0].name: no control-plane instance named 'nope'; valid: "
      "kube-apiserver-0, kube-apiserver-1, kube-apiserver-2, kube-controller-manager-0, kube-controller-manager-1, "
      "kube-controller-manager-2, kube-scheduler-0, kube-scheduler-1, kube-scheduler-2, etcd-0, etcd-1, etcd-2"]),
    ("subnet-bad-ips-and-unknown-zone", edit("  cloud: {subnetFreeIPs: 20}", "  cloud: {subnets: [{zone: q, freeIPs: -1}]}"),
     ["s.yaml:17: cluster.cloud.subnets[0].freeIPs: -1 is negative; expected a whole number of 0 or more",
      "s.yaml:17: cluster.cloud.subnets[0].zone: no node pool uses zone 'q'; valid: a, b, c"]),
    ("workload-bad-replicas-and-taken-name",
     edit("  - {name: db, kind: StatefulSet, replicas: 1, localStorage: true}", "  - {name: web, replicas: x}"),
     ["s.yaml:26: workloads[1].replicas: expected a whole number from 0 to 150000, got the text 'x'",
      "s.yaml:26: workloads[1].name: workload default/web is declared twice; names must be unique per namespace"]),
    ("strategy-bad-knob-and-both-zero", edit("maxSurge: 1, maxUnavailable: 0", "maxSurge: 0, maxUnavailable: 0, drainTimeout: y"),
     ["s.yaml:29: strategies[1].drainTimeout: 'y' is not a duration (expected seconds or text such as '90s', '15m', "
      "'2h')",
      "s.yaml:29: strategies[1]: maxSurge and maxUnavailable cannot both be 0: no node could ever be replaced; set "
      "maxSurge or maxUnavailable to 1 or more"]),
    ("fault-bad-rate-and-a-field-it-does-not-take", edit("faults: []", "faults: [{type: node-crash, rate: -1, step: 2}]"),
     ["s.yaml:30: faults[0].rate: -1 is out of range; expected a number of 0 or more",
      "s.yaml:30: faults[0].step: node-crash does not take 'step'; it takes: at, duration, limit, probability, rate, "
      "target"]),
    ("bad-cloud-and-a-workload-on-no-pool",
     edit("  cloud: {subnetFreeIPs: 20}", "  cloud: {subnetFreeIPs: -3}", edit("    startupSeconds: 15",
                                                                              "    startupSeconds: 15\n    pool: gpu")),
     ["s.yaml:17: cluster.cloud.subnetFreeIPs: -3 is negative; expected a whole number of 0 or more",
      "s.yaml:26: workloads[0].pool: no node pool named 'gpu'; valid: general"]),
    ("bad-timing-and-zero-retry", edit("seed: 42", "seed: 42\ntiming: {evictionRetry: 0, podStartup: {uniform: [9, 1]}, "
                                                   "nodeDelete: soon}"),
     ["s.yaml:33: timing.nodeDelete: 'soon' is not a duration (expected seconds or text such as '90s', '15m', '2h')",
      "s.yaml:33: timing.evictionRetry: 0s would make the simulation spin without time passing; give a duration "
      "above 0, e.g. 5s",
      "s.yaml:33: timing.podStartup.uniform: expected [min, max] with min <= max"]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in EVERY_ERROR_OF_AN_ITEM],
                         ids=[c[0] for c in EVERY_ERROR_OF_AN_ITEM])
def test_every_error_of_a_list_item_is_reported(tmp_path, text, expected):
    assert problems(tmp_path, text) == expected


@pytest.mark.parametrize("text, expected", [
    (edit("maxSurge: 1, maxUnavailable: 0", 'maxSurge: "150%", maxUnavailable: 0'),
     ["s.yaml:29: strategies[1].maxSurge: 150% is more than all of the pool's nodes; valid: a count, or 0% to 100%"]),
    (edit("{name: inplace, maxUnavailable: 1}", '{name: inplace, maxUnavailable: "101%"}'),
     ["s.yaml:29: strategies[0].maxUnavailable: 101% is more than all of the pool's nodes; valid: a count, or 0% to "
      "100%"]),
    (edit("{name: inplace, maxUnavailable: 1}", '{name: bluegreen, greenBatch: "200%"}'),
     ["s.yaml:29: strategies[0].greenBatch: 200% is more than all of the pool's nodes; valid: a count, or 0% to 100%"]),
    (edit("pdb: {minAvailable: 4}", 'pdb: {minAvailable: "150%"}'),
     ["s.yaml:24: workloads[0].pdb.minAvailable: 150% is more than all of the workload's pods; valid: a count, or 0% "
      "to 100%"]),
], ids=["max-surge-150-percent", "max-unavailable-101-percent", "green-batch-200-percent", "pdb-150-percent"])
def test_a_percent_past_100_is_refused(tmp_path, text, expected):
    assert problems(tmp_path, text) == expected


def test_a_percent_of_100_is_the_whole_pool(tmp_path):
    text = edit("maxSurge: 1, maxUnavailable: 0", 'maxSurge: "100%", maxUnavailable: 0')
    assert load_scenario_text(text, "s.yaml").strategies[1].param("maxSurge").to_json() == "100%"


@pytest.mark.parametrize("text, expected", [
    (edit("      count: 6", "      count: 0"),
     ["s.yaml:7: cluster.nodePools: every node pool has count 0, so no pod could run (CoreDNS (2) and 2 workload(s) "
      "want some) and the upgrade would wait for them until its horizon; give a pool a count of 1 or more"]),
    (edit("  addons:", "    - {name: gpu, count: 0}\n  addons:", edit("    startupSeconds: 15", "    startupSeconds: 15\n"
                                                                                            "    pool: gpu")),
     ["s.yaml:27: workloads[0].pool: node pool 'gpu' has no nodes (count: 0), so these 6 pod(s) could never run; "
      "valid: a pool with nodes (general), or give 'gpu' a count of 1 or more"]),
], ids=["no-node-at-all", "workload-pinned-to-an-empty-pool"])
def test_pods_that_no_node_could_run_are_refused(tmp_path, text, expected):
    assert problems(tmp_path, text) == expected


@pytest.mark.parametrize("text", [
    edit("  addons:", "    - {name: spare, count: 0}\n  addons:"),  # an empty pool nothing is pinned to
    # nothing wants a pod: the upgrade of a control plane alone
    edit("      count: 6", "      count: 0", edit("  addons: {", "  addons: {corednsReplicas: 0, ",
                                                 re.sub(r"workloads:\n(  .*\n)+", "workloads: []\n", BASE))),
], ids=["empty-spare-pool", "no-pods-wanted"])
def test_an_empty_pool_is_fine_when_no_pod_needs_it(text):
    assert load_scenario_text(text, "s.yaml").target.minor == 29


SUBDOMAIN = ("valid: lowercase letters, digits, '-' and '.', each part between dots starting and ending with a letter "
             "or digit, at most 253 characters (an RFC 1123 subdomain)")
LABEL = ("valid: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters "
         "(an RFC 1123 label)")


@pytest.mark.parametrize("text, expected", [
    (edit("  - name: web", "  - name: Web_App"),
     [f"s.yaml:19: workloads[0].name: 'Web_App' is not a Kubernetes name; {SUBDOMAIN}; did you mean 'web-app'?"]),
    (edit("  - name: web", "  - name: web.\n    namespace: -team-"),
     [f"s.yaml:19: workloads[0].name: 'web.' is not a Kubernetes name; {SUBDOMAIN}; did you mean 'web'?",
      f"s.yaml:20: workloads[0].namespace: '-team-' is not a Kubernetes name; {LABEL}; did you mean 'team'?"]),
    (edit("  - name: web", "  - name: web\n    namespace: team.a"),
     [f"s.yaml:20: workloads[0].namespace: 'team.a' is not a Kubernetes name; {LABEL}; did you mean 'team-a'?"]),
    (edit("    - name: general", "    - name: General_Pool"),
     [f"s.yaml:8: cluster.nodePools[0].name: 'General_Pool' is not a Kubernetes name; {LABEL}; did you mean "
      "'general-pool'?"]),
    (edit("    - name: general", "    - name: " + "p" * 64),
     [f"s.yaml:8: cluster.nodePools[0].name: '{'p' * 40}...' has 64 characters; {LABEL}; did you mean '{'p' * 63}'?"]),
    (edit("    startupSeconds: 15", "    startupSeconds: 15\n    pool: GPU"),
     [f"s.yaml:26: workloads[0].pool: 'GPU' is not a Kubernetes name; {LABEL}; did you mean 'gpu'?"]),
], ids=["workload-capitals-and-underscore", "workload-trailing-dot-and-namespace-dashes", "namespace-with-a-dot",
        "pool-capitals", "pool-too-long", "pinned-pool-capitals"])
def test_names_are_kubernetes_names(tmp_path, text, expected):
    assert problems(tmp_path, text) == expected


def test_an_imported_pool_label_becomes_a_kubernetes_name(tmp_path):
    from sim.cli import main

    dump = tmp_path / "dump.json"
    dump.write_text(pathlib.Path("tests/data/kubectl-dump.json").read_text().replace('"general"', '"NG_General"'))
    out = tmp_path / "s.yaml"
    assert main(["import", str(dump), "--out", str(out)]) == 0
    scenario = load_scenario(str(out))
    assert ([p.name for p in scenario.cluster.pools], [n.name for n in scenario.cluster.nodes]) == (
        ["ng-general"], ["ng-general-1", "ng-general-2"])
    assert {w.pool for w in scenario.cluster.workloads if w.pool} == {"ng-general"}  # pinned by nodeSelector
