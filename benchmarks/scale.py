"""Wall time, simulated events, cost per event and peak memory of one in-place and one replacement run at
100, 1,000 and 5,000 nodes, without constraints and with scheduling constraints on half the workloads.

Each case runs in its own process so that its peak resident memory is its own. An event is one simpy
event the world scheduled (a timeout, a process step, a kick); cost per event is the CPU time the run
takes after the world is built (pre-checks and the initial placement of every pod are set-up: "set-up" is
the world's construction, in wall time) over them, which stays comparable when a change makes the world
do more or less, and moves less than wall time on a machine shared with other work.
Usage: python benchmarks/scale.py [--constraints none|half|both] [NODES ...]
       (default: both, at 100 1000 5000)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

PODS_PER_NODE = 30
PODS_PER_WORKLOAD = 300

# What the constrained half of the workloads asks for, in turn: every kind of rule the scheduler indexes
# (zone and hostname spread, required and preferred anti-affinity, node affinity and selectors, tolerations,
# a priority class). Each can be met at every step of both rolls; required anti-affinity by hostname only
# where there are twice as many nodes as replicas (else it is preferred).
SPREAD_ZONE = ("topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, "
               "whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: APP}}}]")
APART = ("affinity: {podAntiAffinity: {WHEN: [TERM]}}", "{topologyKey: kubernetes.io/hostname, "
         "labelSelector: {matchLabels: {app: APP}}}")
NODE_AFFINITY = ("affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{"
                 "matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [a, b, c]}]}]}, "
                 "preferredDuringSchedulingIgnoredDuringExecution: [{weight: 10, preference: {matchExpressions: ["
                 "{key: topology.kubernetes.io/zone, operator: In, values: [a]}]}}]}}, "
                 "tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]")
PRIORITY_SPREAD_HOST = ("priorityClassName: important, topologySpreadConstraints: [{maxSkew: 5, topologyKey: "
                        "kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: "
                        "{app: APP}}}]")


def constraint(k: int, app: str, nodes: int) -> str:
    """The ``k``-th constrained workload's rules."""
    when, term = APART
    required = when.replace("WHEN", "requiredDuringSchedulingIgnoredDuringExecution").replace("TERM", term)
    preferred = when.replace("WHEN", "preferredDuringSchedulingIgnoredDuringExecution").replace(
        "TERM", "{weight: 50, podAffinityTerm: " + term + "}")
    rules = [SPREAD_ZONE, required if nodes >= 2 * PODS_PER_WORKLOAD else preferred,
             "nodeSelector: {disktype: ssd}, " + preferred, NODE_AFFINITY, PRIORITY_SPREAD_HOST]
    return rules[k % len(rules)].replace("APP", app)


def scenario_text(nodes: int, constrained: bool = False) -> str:
    lines = []
    for i in range(nodes * PODS_PER_NODE // PODS_PER_WORKLOAD):
        extra = ", " + constraint(i // 2, f"app-{i}", nodes) if constrained and i % 2 else ""
        lines.append(f"  - {{name: app-{i}, replicas: {PODS_PER_WORKLOAD}, cpu: 100m, memory: 128Mi, "
                     f"pdb: {{maxUnavailable: 10%}}, startupSeconds: 5{extra}}}")
    workloads = "\n".join(lines)
    labels = ", labels: {disktype: ssd}" if constrained else ""
    classes = "priorityClasses: [{name: important, value: 1000}]\n" if constrained else ""
    return f"""apiVersion: midair/v1alpha1
kind: Scenario
metadata: {{name: scale-{nodes}}}
cluster:
  version: "1.29.4"
  controlPlane: {{apiservers: 3}}
  nodePools:
    - {{name: general, count: {nodes}, cpu: "16", memory: 64Gi, maxPods: 110, zones: [a, b, c]{labels}}}
  addons: {{corednsReplicas: 0}}
workloads:
{workloads}
{classes}target: "1.29.8"
strategies: [{{name: inplace, maxUnavailable: 10%}}, {{name: replace, maxSurge: 10%, maxUnavailable: 0}}]
"""


def one(nodes: int, label: str, constrained: bool) -> dict:
    import resource

    import sim.simulate
    from sim.scenario import load_scenario_text

    worlds, setup = [], []
    build = sim.simulate.world_for

    def kept(*args, **kwargs):
        began = time.perf_counter()
        worlds.append(build(*args, **kwargs))
        setup.append((time.perf_counter() - began, time.process_time()))
        return worlds[-1]

    sim.simulate.world_for = kept
    scenario = load_scenario_text(scenario_text(nodes, constrained), f"scale-{nodes}")
    started = time.perf_counter()
    result = sim.simulate.simulate(scenario, scenario.strategy(label), seed=1)
    wall = time.perf_counter() - started
    cpu_after_setup = time.process_time() - setup[0][1]
    events = next(worlds[0].env._eid)  # simpy numbers every event it schedules
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pods = sum(w.replicas for w in scenario.cluster.workloads)
    return {"nodes": nodes, "pods": pods, "strategy": label, "constraints": "half" if constrained else "none",
            "wall_s": round(wall, 2), "setup_s": round(setup[0][0], 2), "events": events,
            "us_per_event": round(cpu_after_setup / events * 1e6, 1),
            "peak_rss_mib": round(peak), "completed": result.completed, "simulated_s": result.metrics["duration_s"],
            "unschedulable_pod_s": result.metrics.get("unschedulable_pod_s", 0.0)}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(one(int(argv[1]), argv[2], argv[3] == "half")))
        return
    kinds = ["none", "half"]
    if argv[:1] == ["--constraints"]:
        kinds = ["none", "half"] if argv[1] == "both" else [argv[1]]
        argv = argv[2:]
    sizes = [int(a) for a in argv] or [100, 1000, 5000]
    print("| nodes | pods | constraints | strategy | wall time | set-up | events | per event | peak RSS "
          "| simulated upgrade | unschedulable | completed |")
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for nodes in sizes:
        for kind in kinds:
            for label in ("inplace", "replace"):
                out = subprocess.run([sys.executable, __file__, "--one", str(nodes), label, kind],
                                     capture_output=True, text=True, check=True).stdout
                r = json.loads(out)
                print(f"| {r['nodes']:,} | {r['pods']:,} | {r['constraints']} | {r['strategy']} | {r['wall_s']} s | "
                      f"{r['setup_s']} s | {r['events']:,} | {r['us_per_event']} µs | {r['peak_rss_mib']} MiB | "
                      f"{r['simulated_s'] / 3600:.1f} h | {r['unschedulable_pod_s']:g} pod-s | {r['completed']} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
