"""Calibration, the loop closed: fits of durations (models.fitting), the evidence they come from (journals,
events, pod dumps), `midair calibrate` writing a timing block a scenario includes, and, on the harness,
a calibrated journal that gives back the distribution its hooks were scripted with."""

import json
import math

import pytest
import yaml

from models.fitting import fit, fit_empirical, fit_lognormal, quantile, scenario_distribution
from sim.calibrate import event_samples, go_duration, journal_samples, pod_samples, read_samples
from sim.cli import main
from sim.errors import UsageError
from sim.scenario import load_scenario
from tests.live_cli import allow_evictions, flight, scenario


def test_a_lognormal_fit_with_its_intervals():
    f = fit_lognormal([1.0, 2.0, 4.0])
    # logs 0, ln 2, ln 4: mu = ln 2, sigma = ln 2; t(2) = 4.303
    mu, sigma = math.log(2), math.log(2)
    assert (f.kind, f.samples, f.median) == ("lognormal", 3, pytest.approx(2.0, rel=1e-12))
    assert f.p95 == pytest.approx(math.exp(mu + 1.6448536269514722 * sigma), rel=1e-12)
    assert f.median_ci == pytest.approx((math.exp(mu - 4.303 * sigma / math.sqrt(3)),
                                         math.exp(mu + 4.303 * sigma / math.sqrt(3))), rel=1e-12)
    se = sigma * math.sqrt(1 / 3 + 1.6448536269514722 ** 2 / 4)
    assert f.p95_ci == pytest.approx((math.exp(mu + 1.6448536269514722 * sigma - 4.303 * se),
                                      math.exp(mu + 1.6448536269514722 * sigma + 4.303 * se)), rel=1e-12)
    assert f.describe() == "lognormal median 2s [0.357s, 11.2s], p95 6.25s [0.312s, 125s], 3 samples"


@pytest.mark.parametrize("samples, kind, expected", [
    ([3.0, 1.0, 2.0, 10.0], "empirical", ("empirical", 4, 2.5, 8.95, (1.0, 2.0, 3.0, 10.0))),
    ([7.5], "lognormal", ("constant", 1, 7.5, 7.5, ())),
    ([7.5], "empirical", ("constant", 1, 7.5, 7.5, ())),
    ([0.0, 0.0], "lognormal", ("lognormal", 2, 0.001, 0.001, ())),
], ids=["empirical", "one-sample-lognormal", "one-sample-empirical", "zeros-floored"])
def test_fits_by_kind(samples, kind, expected):
    f = fit(samples, kind)
    assert (f.kind, f.samples, round(f.median, 6), round(f.p95, 6), f.values) == expected


def test_a_lognormal_needs_two_samples():
    with pytest.raises(ValueError, match="a lognormal needs at least 2 samples, got 1"):
        fit_lognormal([1.0])
    assert fit_empirical([2.0, 1.0]).values == (1.0, 2.0)


@pytest.mark.parametrize("values, q, expected", [
    ([1, 2, 3, 4], 0.5, 2.5), ([1, 2, 3, 4], 0.95, 3.85), ([5], 0.95, 5), ([4, 1], 0.0, 1),
], ids=["median", "p95", "one", "min"])
def test_quantiles_interpolate_between_order_statistics(values, q, expected):
    assert quantile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize("samples, kind, written", [
    ([1.0, 2.0, 4.0], "lognormal", {"lognormal": {"median": "2s", "p95": "6.254s"}}),
    ([1.0, 2.5], "empirical", {"empirical": ["1s", "2.5s"]}),
    ([3.0], "lognormal", {"constant": "3s"}),
], ids=["lognormal", "empirical", "constant"])
def test_a_fit_is_written_as_the_scenario_format_writes_a_distribution(samples, kind, written):
    assert scenario_distribution(fit(samples, kind)) == written


@pytest.mark.parametrize("text, seconds", [
    ("2.530550397s", 2.530550397), ("850ms", 0.85), ("1m2.5s", 62.5), ("1h0m3s", 3603.0), ("12µs", 12e-6),
    ("2.5", None), ("soon", None), ("1m2x", None),
], ids=["seconds", "ms", "minutes", "hours", "micro", "no-unit", "word", "junk-after"])
def test_go_durations(text, seconds):
    assert go_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def event(message, reason="Pulled"):
    return {"kind": "Event", "reason": reason, "message": message, "involvedObject": {"kind": "Pod"}}


@pytest.mark.parametrize("message, seconds", [
    ('Successfully pulled image "nginx:1.25" in 2.530550397s', 2.530550397),
    ('Successfully pulled image "nginx:1.25" in 1.2s (1.9s including waiting)', 1.2),
    ('Successfully pulled image "redis:7" in 850ms (850ms including waiting). Image size: 4521 bytes.', 0.85),
    ('Container image "nginx:1.25" already present on machine', None),
], ids=["before-1.28", "1.28", "1.30-image-size", "already-present"])
def test_image_pulls_from_the_kubelet_s_events(message, seconds):
    found = event_samples([event(message), event("Started container web", "Started")], "events.json")
    assert [(s.field, s.seconds) for s in found] == ([("imagePull", pytest.approx(seconds))] if seconds else [])


def pod(ready="True", ready_at="2026-11-25T10:00:12Z", started="2026-11-25T10:00:04Z", restarts=0):
    return {"kind": "Pod", "status": {
        "conditions": [{"type": "Ready", "status": ready, "lastTransitionTime": ready_at}],
        "containerStatuses": [{"restartCount": restarts, "state": {"running": {"startedAt": started}}},
                              {"restartCount": 0, "state": {"running": {"startedAt": "2026-11-25T10:00:02Z"}}}]}}


@pytest.mark.parametrize("item, seconds", [
    (pod(), 8.0), (pod(restarts=1), None), (pod(ready="False"), None),
    (pod(ready_at="2026-11-25T10:00:01Z"), None), ({"kind": "Node", "status": {}}, None),
], ids=["ready-8s-after-the-last-start", "restarted", "not-ready", "ready-before-start", "a-node"])
def test_pod_startup_from_conditions(item, seconds):
    found = pod_samples([item], "dump.json")
    assert [(s.field, s.seconds) for s in found] == ([("podStartup", seconds)] if seconds else [])


def write_journal(path, entries):
    lines = [{"header": {"scenario": "x"}}, {"memo": {}, "log": entries}]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))


def completed(action, component, seconds):
    return {"t": 0, "kind": "completed", "action": action, "reason": "", "detail": "", "duration_s": seconds,
            "component": component}


def test_journal_samples_by_action_and_component(tmp_path):
    path = tmp_path / "j"
    write_journal(path, [completed("UpgradeNodeInPlace node/a to 1.30.2", "node", 12.0),
                         completed("UpgradeControlPlaneInstance kube-apiserver-0 to 1.30.2", "kube-apiserver", 90.0),
                         completed("UpgradeControlPlaneInstance kube-scheduler-0 to 1.30.2", "kube-scheduler", 20.0),
                         completed("Drain node/a", "node", 3.0),
                         completed("ProvisionNode in pool/p at 1.30.2", "pool", 70.0),
                         {**completed("DeleteNode node/b", "node", 5.0), "kind": "action"}])
    assert [(s.field, s.seconds) for s in journal_samples(str(path))] == [
        ("inplace", 12.0), ("controlPlaneInstance", 90.0), ("controllerInstance", 20.0), ("nodeProvision", 70.0)]


@pytest.mark.parametrize("content, message", [
    (None, "{f}: no such file"),
    ("{not json", "{f}:1: not JSON (Expecting property name enclosed in double quotes); give a midair apply journal, "
                  "or the output of kubectl get events -A -o json or kubectl get nodes,pods -A -o json"),
    ('{"kind": "Pod"}', "{f}: not a midair journal or a kubectl list (no items); give a journal, or the output of "
                        "kubectl get events -A -o json or kubectl get nodes,pods -A -o json"),
], ids=["missing", "not-json", "not-a-list"])
def test_a_source_that_is_none_of_the_three_is_one_error(tmp_path, content, message):
    path = tmp_path / "source.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as err:
        read_samples(str(path))
    assert str(err.value) == message.format(f=path)


def test_calibrate_writes_a_timing_block_that_a_scenario_includes(tmp_path, capsys):
    journal = tmp_path / "prod.journal"
    write_journal(journal, [completed(f"UpgradeNodeInPlace node/n{i} to 1.30.2", "node", s)
                            for i, s in enumerate([10.0, 12.0, 15.0, 11.0])])
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"kind": "List", "items": [
        event(f'Successfully pulled image "x" in {s}s') for s in (3, 4, 8)]}))
    out = tmp_path / "timing.yaml"
    assert main(["calibrate", str(journal), str(events), "--out", str(out)]) == 0
    assert main(["calibrate", str(journal), str(events), "--out", str(tmp_path / "again.yaml")]) == 0
    assert out.read_bytes() == (tmp_path / "again.yaml").read_bytes()  # same sources, same file
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == ["inplace                lognormal median 11.9s [9s, 15.6s], p95 15.8s [9.94s, 25s], 4 samples",
                       "imagePull              lognormal median 4.58s [1.31s, 16s], p95 10.5s [1.19s, 92.8s], 3 samples",
                       f"wrote {out}: 2 timing field(s)"]
    written = yaml.safe_load(out.read_text())["timing"]
    assert written["inplace"]["stopKubelet"] == "0s" and written["inplace"]["rejoin"] == "0s"
    assert written["inplace"]["replaceBinaries"]["samples"] == 4
    assert written["inplace"]["replaceBinaries"]["source"] == (
        f"{journal}: 4 in-place upgrade(s), from the upgradeNode hook's start to the kubelet reporting the version "
        "(the whole upgrade, measured from outside: the other steps are 0)")
    assert written["imagePull"] == {"lognormal": {"median": "4.579s", "p95": "10.494s"}, "samples": 3,
                                    "source": f"{events}: 3 image pull(s), as the kubelet's Pulled events report them"}
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(open("scenarios/seed-example.yaml").read() + "\ntiming: {include: timing.yaml}\n")
    s = load_scenario(str(scenario_file))
    assert (s.timing.image_pull.kind, s.timing.image_pull.params) == ("lognormal", (4.579, 10.494))
    assert [d.describe() for _, d in s.timing.inplace_steps] == ["0s", "lognormal(11.862s, 15.774s)", "0s", "0s"]
    assert main(["run", str(scenario_file), "--runs", "2", "--strategy", "inplace"]) == 0
    assert main(["run", "scenarios/seed-example.yaml", "--runs", "2", "--strategy", "inplace", "--timing",
                 str(out)]) == 0


def test_nothing_to_fit_is_one_error(tmp_path, capsys):
    empty = tmp_path / "events.json"
    empty.write_text('{"kind": "List", "items": []}')
    assert main(["calibrate", str(empty)]) == 2
    assert capsys.readouterr().err == (f"midair calibrate: {empty}: nothing to fit (no completed operations in a "
                                       "journal, no Pulled events, no pods Ready after their start)\n")


# the hooks' scripted in-place upgrade times: lognormal, median 1.5 s and p95 4 s, one draw per node
MEDIAN, P95, NODES = 1.5, 4.0, 12
TIMED = {"upgradeNode": "sh tests/timed_hook.sh {node} {version}"}
ALL_AT_ONCE = {"name": "inplace", "maxUnavailable": "100%"}


def test_a_calibrated_harness_journal_gives_back_the_scripted_distribution(tmp_path, capsys, monkeypatch):
    import random

    rng = random.Random(20261201)
    mu = math.log(MEDIAN)
    draws = {f"general-{i}": rng.lognormvariate(mu, (math.log(P95) - mu) / 1.6448536269514722)
             for i in range(1, NODES + 1)}
    durations = tmp_path / "durations"
    durations.write_text("".join(f"{node} {seconds:.3f}\n" for node, seconds in draws.items()))
    monkeypatch.setenv("MIDAIR_TEST_DURATIONS", str(durations))
    journal = tmp_path / "timed.journal"
    with flight(tmp_path, scenario(nodes=NODES, strategy=ALL_AT_ONCE, hooks=TIMED)) as f:
        allow_evictions(f.api)
        code, out, err = f.apply("--execute", "--journal", str(journal))
        assert code == 0, out + err
    from sim.calibrate import fit_samples

    (inplace,) = [x.fit for x in fit_samples(read_samples(str(journal))) if x.field == "inplace"]
    assert inplace.samples == NODES
    assert inplace.median_ci[0] <= MEDIAN <= inplace.median_ci[1], inplace.describe()
    assert inplace.p95_ci[0] <= P95 <= inplace.p95_ci[1], inplace.describe()
    timing = tmp_path / "timing.yaml"
    assert main(["calibrate", str(journal), "--out", str(timing)]) == 0
    capsys.readouterr()
    assert main(["run", f.scenario, "--runs", "3", "--timing", str(timing)]) == 0
    calibrated = load_scenario(f.scenario, timing=str(timing)).timing
    assert dict(calibrated.inplace_steps)["replaceBinaries"].params == (round(inplace.median, 3), round(inplace.p95, 3))
