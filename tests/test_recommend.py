"""``midair recommend``: the search space derived from the cluster, the adaptive design, and the command
that writes the report and the strategy entry to copy, the same on any executor and when resumed."""

import json

import pytest
import yaml

from models.search import Candidate, coarse, neighbours, ranges, refine, runs_each
from sim.cli import main
from sim.recommend import search
from sim.scenario import load_scenario
from sim.sweep import ProcessExecutor, SerialExecutor

QUICKSTART = load_scenario("scenarios/quickstart.yaml").cluster  # pools of 6 and 3 nodes


def test_the_ranges_stop_where_the_cluster_does():
    r = ranges(QUICKSTART)
    assert (r.surge, r.unavailable) == ((1, 2), (1, 2))
    assert r.why[0] == "maxSurge up to 2: the smallest pool has 3 node(s)"
    tight = load_scenario("scenarios/quickstart.yaml", ["cluster.cloud.subnetFreeIPs=1"]).cluster
    assert ranges(tight).surge == (1,)
    assert ranges(tight).why[0].startswith("maxSurge up to 1: subnet ")
    assert ranges(tight).why[0].endswith(" has 1 free IP(s)")


def test_the_coarse_grid_never_sets_both_surge_and_unavailability_to_zero():
    grid = coarse(ranges(QUICKSTART))
    labels = [c.label for c in grid]
    assert labels[:2] == ["inplace maxUnavailable=1", "inplace maxUnavailable=2"]
    assert "replace maxSurge=0 maxUnavailable=0 drainTimeout=15m" not in labels
    assert [c.label for c in grid if c.strategy == "surge" and dict(c.knobs)["drainTimeout"] == "15m"] == [
        "surge maxSurge=0 maxUnavailable=1 drainTimeout=15m", "surge maxSurge=1 maxUnavailable=0 drainTimeout=15m",
        "surge maxSurge=1 maxUnavailable=1 drainTimeout=15m", "surge maxSurge=2 maxUnavailable=0 drainTimeout=15m"]
    assert [c.label for c in grid if c.strategy == "bluegreen"] == [
        "bluegreen drainBatch=1 drainTimeout=15m", "bluegreen drainBatch=1 drainTimeout=1h",
        "bluegreen drainBatch=2 drainTimeout=15m", "bluegreen drainBatch=2 drainTimeout=1h"]
    assert len(grid) == 2 + 8 + 8 + 4


def test_the_neighbours_of_a_candidate_are_one_step_away_and_a_soak():
    r = ranges(QUICKSTART)
    c = Candidate("surge", (("maxSurge", 1), ("maxUnavailable", 0), ("drainTimeout", "15m")))
    assert [n.label for n in neighbours(c, r)] == [  # not maxSurge=0 with maxUnavailable=0: nothing would move
        "surge maxSurge=2 maxUnavailable=0 drainTimeout=15m", "surge maxSurge=1 maxUnavailable=1 drainTimeout=15m",
        "surge maxSurge=1 maxUnavailable=0 drainTimeout=1h",
        "surge maxSurge=1 maxUnavailable=0 drainTimeout=15m soakSeconds=2m"]
    tried = coarse(r)
    assert [n.label for n in refine([c], tried, r)] == ["surge maxSurge=1 maxUnavailable=0 drainTimeout=15m "
                                                        "soakSeconds=2m"]
    assert runs_each(400, 22, share=0.4) == 5 and runs_each(40, 22) == 2


def test_the_search_spends_its_budget_and_is_the_same_on_any_executor():
    one = search("scenarios/seed-example.yaml", budget=40, executor=SerialExecutor())
    two = search("scenarios/seed-example.yaml", budget=40, executor=ProcessExecutor(2))
    assert len(one.rows) == 40 and sum(st.runs for st in one.steps) == 40
    assert one.steps[0].name == "coarse grid"
    assert [r.data for r in one.rows] == [r.data for r in two.rows]
    assert one.judgement == two.judgement and one.front == two.front


@pytest.fixture(scope="module")
def recommended(tmp_path_factory):
    out = tmp_path_factory.mktemp("recommend") / "r"
    code = main(["recommend", "scenarios/seed-example.yaml", "--budget", "40", "--workers", "1", "--out", str(out)])
    return code, out


def test_recommend_writes_the_report_and_an_entry_that_loads(recommended):
    code, out = recommended
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["figures", "recommendation.yaml", "report.html", "results.json",
                                                     "summary.csv", "summary.md"]
    assert (out / "figures" / "pareto.svg").exists()
    entry = yaml.safe_load((out / "recommendation.yaml").read_text())["strategies"][0]
    assert entry["label"] == "recommended"
    scenario = load_scenario("scenarios/seed-example.yaml", [f"strategies=[{json.dumps(entry)}]"])
    assert scenario.strategies[0].label == "recommended"
    results = json.loads((out / "results.json").read_text())
    assert results["recommendation"]["recommended"]["strategy"] == {k: v for k, v in entry.items() if k != "label"}
    assert len(results["runs"]) == 40
    md = (out / "summary.md").read_text()
    assert md.split("\n## ", 2)[1].startswith("Verdict\n\nRecommended: ")
    assert "\n## The search\n" in md and 'id="pareto"' in (out / "report.html").read_text()


def test_an_interrupted_search_resumes_to_the_same_result(tmp_path, recommended):
    _, full = recommended
    out = tmp_path / "r"
    out.mkdir()
    checkpoint = out / ".runs.jsonl"
    search("scenarios/seed-example.yaml", budget=40, executor=SerialExecutor(), checkpoint=str(checkpoint))
    lines = checkpoint.read_text().splitlines(keepends=True)
    checkpoint.write_text("".join(lines[:23]) + lines[23][:40])  # what an interruption leaves: a line cut short
    assert main(["recommend", "scenarios/seed-example.yaml", "--budget", "40", "--workers", "1", "--out", str(out),
                 "--resume"]) == 0
    assert (out / "results.json").read_bytes() == (full / "results.json").read_bytes()


@pytest.mark.parametrize("argv, message", [
    (["--budget", "5"], "midair recommend: --budget 5: the coarse grid has 19 candidates for this cluster and needs at "
                        "least 38 runs (2 each); valid: --budget 38 or more, or fewer strategies (--strategy)"),
    (["--objective", "outage"], "midair recommend: --objective outage: unknown metric; did you mean 'outage_s'? valid: "),
    (["--objective", "outage_s", "--objective", "outage_s"],
     "midair recommend: --objective outage_s is given twice; name each objective once, most important first"),
])
def test_bad_options_are_one_clear_error(tmp_path, capsys, argv, message):
    assert main(["recommend", "scenarios/seed-example.yaml", "--out", str(tmp_path / "r"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
