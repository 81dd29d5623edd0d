"""What the report tells a change-advisory board: where the outage came from, what each pool's
roll took, why runs halted and what they left, every knob as resolved with its provenance,
completed-only statistics beside the all-runs ones, durations in minutes, and figures that mark
halted runs and give each timeline its own axis."""

import json

import pytest

from sim.cli import main

STUCK = "faults=[{type: stuck-pdb, target: workload/web, at: 0s}]"  # replace's drain of workers-1 never ends


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("content") / "r"
    code = main(["sweep", "scenarios/seed-example.yaml", "--runs", "2", "--workers", "1", "--out", str(out),
                 "--set", "strategies=[{name: inplace}, {preset: eks-managed}]", "--set", STUCK,
                 "--set", "strategies[1].drainTimeout=2m"])
    assert code == 0
    return out, (out / "summary.md").read_text(), (out / "report.html").read_text()


def section(md: str, title: str) -> str:
    return md.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_per_workload_table_says_where_the_outage_came_from(report):
    _, md, html = report
    part = section(md, "Per workload")
    assert "| workload | strategy | outage | degraded | evicted | restarted | lost data | manual interventions |" in part
    assert "| default/web | eks-managed | 0 s | 0 s | 0 | 0 | 0 | 0 |" in part  # its budget never let a pod go
    assert 'id="per-workload"' in html


def test_the_per_pool_table_gives_each_roll_its_duration_and_churn(report):
    out, md, _ = report
    runs = json.loads((out / "results.json").read_text())["runs"]
    inplace = [r["pools"]["workers"] for r in runs if r["strategy"] == "inplace"]
    assert [(p["nodes_added"], p["nodes_removed"]) for p in inplace] == [(0, 0), (0, 0)]
    assert "| pool | strategy | roll | nodes added | nodes removed |" in section(md, "Per pool")


def test_a_halted_run_says_why_and_what_it_left(report):
    out, md, _ = report
    part = section(md, "Runs that halted or rolled back")
    assert ('- eks-managed: 2 of 2 run(s) halted: drain of workers-1 did not finish within 120s: error when evicting '
            'pods/"web-1" -n "default": global timeout reached: 2m0s; last refusal: PodDisruptionBudget default/web '
            "allows no disruption (a stuck-pdb fault); evictions refused with HTTP 429 (...) (undrainable: fail)") in part
    left = [r["left"] for r in json.loads((out / "results.json").read_text())["runs"] if r["strategy"] == "eks-managed"]
    assert left[0]["cordoned"] == ["workers-1"] and left[0]["control_plane"] == ["1.16.15"]
    assert left[0]["pools"]["workers"] == {"1.14.10": 2, "1.16.15": 2}  # the new nodes the pool needs, up front
    assert "left: control plane at 1.16.15; nodes: workers: 2 at 1.14.10, 2 at 1.16.15; cordoned: workers-1" in part


def test_settings_show_every_knob_as_resolved_and_the_provenance(report):
    _, md, _ = report
    part = section(md, "Settings and provenance")
    assert "| knob | inplace | eks-managed |" in part
    for row in ("| is | inplace | replace |", "| surgePerZone |  | 2 |", "| oldNodes | schedulable | cordon |",
                "| drainTimeout | 15.0 min | 2.0 min |", "| postDrainWait |  | 60 s |"):
        assert row in part, row
    assert "| faults[0] | stuck-pdb | at 0, target workload/web |" in part
    assert "| midair | 0.1.0 |" in part and "| scenario | scenarios/seed-example.yaml |" in part
    assert "| command | midair sweep scenarios/seed-example.yaml --runs 2 --workers 1 --out " in part


def test_completed_only_statistics_sit_beside_the_all_runs_ones(report):
    _, md, _ = report
    assert "| completed | 100% of 2 | 0% of 2 |" in section(md, "Comparison")
    completed = section(md, "Comparison: completed runs only")
    assert "No run of eks-managed completed." in completed and "| metric | inplace |" in completed


def test_durations_read_in_minutes(report):
    _, md, _ = report
    row = next(line for line in section(md, "Comparison").splitlines() if line.startswith("| duration_s |"))
    assert row.count(" min") == 4  # mean and p95 of both strategies


def test_figures_mark_halted_runs_and_give_each_timeline_its_axis(report):
    out, _, _ = report
    timeline = (out / "figures" / "timeline.svg").read_text()
    assert timeline.count("minutes since the upgrade started") == 2  # one axis per panel
    assert "eks-managed: a representative run (halted)" in timeline
    for name in ("distributions", "scatter"):
        assert "halted or rolled back" in (out / "figures" / f"{name}.svg").read_text(), name


def test_the_comparison_and_the_per_service_table_show_what_users_felt(tmp_path):
    # web's three pods behind a load balancer that lets go of a pod 10 s after it starts terminating: replacement
    # drains each (no preStop), so 1/3 of 30 requests a second fail for 10 s three times; in place restarts each
    # pod's containers (1.30 -> 1.31), which answer again 5 s later
    from tests.fidelity_scenario import BASE

    scenario = tmp_path / "s.yaml"
    scenario.write_text(BASE + "services: [{name: web, workload: web, requestsPerSecond: 30, loadBalancer: true}]\n")
    assert main(["sweep", str(scenario), "--runs", "1", "--workers", "1", "--out", str(tmp_path / "r"),
                 "--set", "timing.lbDeregistration=10s"]) == 0
    md = (tmp_path / "r" / "summary.md").read_text()
    comparison = section(md, "Comparison")
    assert "| requests_failed | 150 / 150 | 300 / 300 |" in comparison
    assert "| traffic_error_s | 15 s / 15 s | 30 s / 30 s |" in comparison
    part = section(md, "Per service")
    assert "| service | strategy | requests_failed | traffic_error_s |" in part
    assert "| default/web | inplace | 150 | 15 s |\n| default/web | replace | 300 | 30 s |" in part
    assert 'id="per-service"' in (tmp_path / "r" / "report.html").read_text()
    runs = json.loads((tmp_path / "r" / "results.json").read_text())["runs"]
    assert [r["services"] for r in runs] == [{"default/web": {"requests_failed": 150, "traffic_error_s": 15.0}},
                                             {"default/web": {"requests_failed": 300, "traffic_error_s": 30.0}}]


def test_the_per_workload_table_shows_what_blocked_pods_where_some_run_had_it(report, tmp_path):
    _, seed_md, _ = report
    seed = section(seed_md, "Per workload")
    assert "Unschedulable: pod-time Pending with no node that fits (or its local volume's node gone)" in seed
    assert ("| workload | strategy | outage | degraded | evicted | restarted | lost data | manual interventions | "
            "unschedulable |\n") in seed
    # db's new pod waits for its local volume, on the node eks-managed replaced, until the watch ends
    assert "| default/db | eks-managed | 62.0 min | 62.0 min | 1 | 0 | 0 | 0 | 62.0 min |" in seed
    out = tmp_path / "deadlock"
    assert main(["sweep", "scenarios/webhook-deadlock.yaml", "--runs", "1", "--workers", "1", "--out", str(out)]) == 0
    part = section((out / "summary.md").read_text(), "Per workload")
    assert "Blocked creations: pod creations an admission webhook refused (docs/metrics.md)." in part
    assert ("| workload | strategy | outage | degraded | evicted | restarted | lost data | manual interventions | "
            "blocked creations |\n") in part  # only the column some run needed
    # the drained controller's replacement is refused by its own webhook, and so is every pod created after it
    assert "| policy/policy-controller | replace | 72.2 min | 72.2 min | 1 | 0 | 0 | 0 | 26 |" in part
    assert "| policy/policy-controller | inplace | 10 s | 10 s | 0 | 1 | 0 | 0 | 0 |" in part


@pytest.mark.parametrize("reason, phrase", [
    ("rolled back: node general-8 is NotReady", ("rolled back", "node general-8 is NotReady")),
    ("rolled back as far as the pool's availability allows: workload default/worker has 2 Ready of the 3 it needs",
     ("rolled back", "as far as the pool's availability allows: workload default/worker has 2 Ready of the 3 it needs")),
    ("drain of stateful-3 did not finish within 900s", ("halted", "drain of stateful-3 did not finish within 900s")),
], ids=["rollback", "partial-rollback", "halt"])
def test_a_stop_is_worded_without_a_doubled_space(reason, phrase):
    from sim.sweep import stop_phrase

    assert stop_phrase(reason) == phrase
