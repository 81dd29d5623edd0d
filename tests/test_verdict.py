"""The report's verdict: the strategies that meet every expectation, ranked by the scenario's objectives,
each with its evidence and its trade-off; a strategy whose runs halted or rolled back never above one
that completed; and the scenario's objectives: checked on load."""

import json

import pytest

from models.expectations import Expectation
from sim.cli import main
from sim.metrics import METRIC_NAMES
from sim.scenario import load_scenario
from sim.scenario.model import StrategySpec
from sim.sweep import Job, Row, Variant
from sim.verdict import headline, judge, paragraphs, table, to_json
from tests.browser import need_chromium, render

SCENARIO = load_scenario("scenarios/quickstart.yaml")  # 9 nodes


def run(label, k, halted=None, **metrics):
    data = {m: 0 for m in METRIC_NAMES}
    data.update({"completed": halted is None, "halted": halted, "duration_s": 3600.0, "node_hours": 9.0}, **metrics)
    return Row(Job(k, "", StrategySpec(label, (), label), k, k), {"metrics": data, "halted": halted,
                                                          "completed": halted is None, "workloads": {}})


def judged(rows, **kw):
    return judge([Variant("", (), SCENARIO)], rows, **kw)


def test_a_strategy_that_halts_never_ranks_above_one_that_completes_and_says_why():
    rows = [run("steady", k, outage_s=600.0 + k) for k in range(3)]
    rows += [run("quick", 3, outage_s=0.0), run("quick", 4, outage_s=0.0),
             run("quick", 5, halted="drain of a-1 did not finish within 900s", outage_s=0.0)]
    j = judged(rows)
    assert [e.label for e in j.entries] == ["steady", "quick"]
    assert j.defaults and j.recommended.label == "steady"
    assert headline(j) == ("Recommended: steady, the only strategy that meets midair's default expectations (no API "
                           "downtime, no budget violation, at least 95% of runs complete; the scenario has no expect:); it ranks "
                           "above quick because it meets every expectation.")
    said = paragraphs(j)
    assert said[3] == ("2. quick: 2 of 3 run(s) completed; 1 halted: drain of a-1 did not finish within 900s; fails "
                       "completed: atLeast 95% (measured 66.67%). Against steady it has less outage (0 s against "
                       "10.0 min), and no objective where it is clearly worse. Its runs that stopped rank it below "
                       "every strategy with a larger share of completed runs.")
    assert table(j).rows[1][:4] == ("2", "quick", "1 of 3 failed", "2/3")


def test_the_objectives_in_order_decide_and_the_trade_off_names_both_sides():
    rows = [run("surge", k, duration_s=1800.0 + k, node_hours=6.0 + k / 100) for k in range(3)]
    rows += [run("inplace", 3 + k, duration_s=3600.0 + k, pods_restarted=28) for k in range(3)]
    j = judged(rows, objectives=("outage_s", "duration_s", "extra_node_hours"))
    assert [e.label for e in j.entries] == ["surge", "inplace"]
    assert headline(j).endswith("; 2 of 2 strategies meet them, and ranks first by outage_s, duration_s, "
                                "extra_node_hours; it ranks above inplace because lower duration_s.")
    assert paragraphs(j)[2] == ("1. surge: 3 of 3 run(s) completed. Against inplace it has less duration (30.0 min "
                                "against 60.0 min) but more extra node hours (1.507 against 0).")
    # with extra node-hours first, in-place wins
    j = judged(rows, objectives=("extra_node_hours", "duration_s"))
    assert [e.label for e in j.entries] == ["inplace", "surge"]


def test_the_scenario_expectations_replace_the_defaults_and_a_rollback_is_marked():
    rows = [run("bluegreen", k, halted="rolled back: green node g-1 stayed NotReady", api_downtime_s=0.0)
            for k in range(2)]
    rows += [run("replace", 2 + k, api_downtime_s=30.0) for k in range(2)]
    j = judged(rows, expectations=(Expectation("api_downtime_s", "max", 10.0),))
    assert not j.defaults
    assert [e.label for e in j.entries] == ["bluegreen", "replace"]  # it meets the only expectation given
    assert table(j).rows[0][3] == "0/2 (2 rolled back)"
    assert paragraphs(j)[2].startswith("1. bluegreen: 0 of 2 run(s) completed; 2 rolled back: green node g-1 stayed "
                                       "NotReady. ")
    doc = to_json(j)
    assert doc["recommended"] == "bluegreen" and doc["ranking"][1]["failed"][0]["value"] == 30.0


def test_without_a_strategy_that_meets_them_the_least_harmful_is_named():
    rows = [run("a", 0, api_downtime_s=5.0), run("b", 1, api_downtime_s=50.0, outage_s=9.0)]
    j = judged(rows)
    assert j.recommended is None
    assert headline(j).startswith("No strategy meets midair's default expectations")
    assert "The least harmful is a" in headline(j)


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    out = tmp_path_factory.mktemp("verdict") / "r"
    code = main(["sweep", "scenarios/quickstart.yaml", "--runs", "3", "--workers", "1", "--out", str(out), "--set",
                 "strategies=[{name: inplace}, {name: replace}, {name: surge}, {name: bluegreen}]"])
    assert code == 0
    return out


def test_the_quickstart_verdict_with_all_four_strategies(four):
    md = (four / "summary.md").read_text()
    first = md.split("\n## ", 2)[1]
    assert first.startswith("Verdict\n\nRecommended: inplace, the only strategy that meets midair's default "
                            "expectations")
    assert "| 4 | bluegreen | 1 of 3 failed | 0/3 (3 rolled back) |" in first
    assert "| completed | 100% of 3 | " in md and "| 0% of 3 (3 rolled back) |" in md
    verdict = json.loads((four / "results.json").read_text())["verdict"]
    assert verdict["recommended"] == "inplace"
    assert [r["strategy"] for r in verdict["ranking"]][0] == "inplace"


def test_the_verdict_renders_in_headless_chromium(four):
    need_chromium()
    dom, errors = render(str(four / "report.html"))
    assert errors == []
    assert dom.index('<section id="verdict"') < dom.index('<section id="comparison"')
    assert '<table id="verdict">' in dom and "<td>bluegreen</td>" in dom
    assert '<table id="per-workload">' in dom and dom.count("<svg") == 3


@pytest.mark.parametrize("value, message", [
    ("[outage_s, outage_s]", "s.yaml:{line}: objectives[1]: outage_s is named twice; name each objective once, "
                             "most important first"),
    ("[outage]", "s.yaml:{line}: objectives[0]: unknown metric 'outage'; did you mean 'outage_s'? valid: "),
    ("[completed]", "s.yaml:{line}: objectives[0]: completed is a run's outcome, not a metric to minimise"),
])
def test_bad_objectives_are_one_clear_error(tmp_path, capsys, value, message):
    text = open("scenarios/quickstart.yaml").read() + f"objectives: {value}\n"
    f = tmp_path / "s.yaml"
    f.write_text(text)
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err.replace(str(f), "s.yaml")
    assert message.format(line=len(text.splitlines())) in err
    assert "Traceback" not in err
