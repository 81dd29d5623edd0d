"""One run of each built-in node strategy at 1,000, 2,000 and 5,000 nodes (30 pods a node): wall and CPU
time, simulated events, the ratio to a bare simpy loop of as many events, peak memory, and how the time
grows with the cluster (issue 17).

Each case runs in its own process so that its peak resident memory is its own. An event is one simpy
event the world scheduled (a timeout, a process step, a kick). "run CPU" is the CPU time of the run after
the world is built (pre-checks and the initial placement of every pod are set-up, reported apart); "per
event" is run CPU over the events; "× simpy" is run CPU over the CPU time, measured in the same process
just after, of a bare simpy loop that schedules as many events (processes waiting on timeouts), the floor
any simpy model pays. The growth exponent of each strategy is log(t_large / t_small) / log(n_large / n_small)
of run CPU between the smallest and the largest size.
Usage: python benchmarks/scale.py [--constraints none|half|both] [--strategies a,b] [NODES ...]
       (default: no constraints, all four strategies, at 1000 2000 5000)
"""

from __future__ import annotations

import json
import math
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
strategies: [{{name: inplace, maxUnavailable: 10%}}, {{name: replace, maxSurge: 10%, maxUnavailable: 0}},
             {{name: surge, maxSurge: 10%, maxUnavailable: 0}}, {{name: bluegreen}}]
"""

STRATEGIES = ("inplace", "replace", "surge", "bluegreen")


def bare_simpy(events: int) -> float:
    """CPU seconds of a bare simpy loop scheduling ``events`` events: 100 processes each waiting on one
    timeout after another."""
    import simpy

    env = simpy.Environment()

    def proc(k):
        while True:
            yield env.timeout(1 + k % 7)

    for k in range(100):
        env.process(proc(k))
    began = time.process_time()
    for _ in range(events):  # each step processes one timeout, whose process schedules the next
        env.step()
    return time.process_time() - began


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
    started, cpu_started = time.perf_counter(), time.process_time()
    result = sim.simulate.simulate(scenario, scenario.strategy(label), seed=1)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    run_cpu = time.process_time() - setup[0][1]
    events = next(worlds[0].env._eid)  # simpy numbers every event it schedules
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    floor = bare_simpy(events)
    pods = sum(w.replicas for w in scenario.cluster.workloads)
    return {"nodes": nodes, "pods": pods, "strategy": label, "constraints": "half" if constrained else "none",
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "setup_s": round(setup[0][0], 2),
            "run_cpu_s": round(run_cpu, 2), "events": events, "us_per_event": round(run_cpu / events * 1e6, 1),
            "bare_simpy_s": round(floor, 3), "x_simpy": round(run_cpu / floor, 1),
            "peak_rss_mib": round(peak), "completed": result.completed, "simulated_s": result.metrics["duration_s"],
            "unschedulable_pod_s": result.metrics.get("unschedulable_pod_s", 0.0)}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(one(int(argv[1]), argv[2], argv[3] == "half")))
        return
    kinds, labels = ["none"], list(STRATEGIES)
    while argv[:1] in (["--constraints"], ["--strategies"]):
        if argv[0] == "--constraints":
            kinds = ["none", "half"] if argv[1] == "both" else [argv[1]]
        else:
            labels = argv[1].split(",")
        argv = argv[2:]
    sizes = [int(a) for a in argv] or [1000, 2000, 5000]
    print("| nodes | pods | constraints | strategy | wall | CPU | set-up | run CPU | events | per event | bare simpy "
          "| × simpy | peak RSS | simulated upgrade | completed |")
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    runs = []
    for nodes in sizes:
        for kind in kinds:
            for label in labels:
                done = subprocess.run([sys.executable, __file__, "--one", str(nodes), label, kind],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    sys.exit(f"scale.py: the case {nodes} nodes, {label}, constraints {kind} failed:\n"
                             + "\n".join(done.stderr.splitlines()[-15:]))
                r = json.loads(done.stdout)
                runs.append(r)
                print(f"| {r['nodes']:,} | {r['pods']:,} | {r['constraints']} | {r['strategy']} | {r['wall_s']} s | "
                      f"{r['cpu_s']} s | {r['setup_s']} s | {r['run_cpu_s']} s | {r['events']:,} | "
                      f"{r['us_per_event']} µs | {r['bare_simpy_s']} s | {r['x_simpy']} | {r['peak_rss_mib']} MiB | "
                      f"{r['simulated_s'] / 3600:.1f} h | {r['completed']} |", flush=True)
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        print(f"\nGrowth of run CPU from {small:,} to {large:,} nodes (n^k):")
        for kind in kinds:
            for label in labels:
                t = {r["nodes"]: r["run_cpu_s"] for r in runs if r["strategy"] == label and r["constraints"] == kind}
                print(f"- {label} ({kind}): k = {math.log(t[large] / t[small]) / math.log(large / small):.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
