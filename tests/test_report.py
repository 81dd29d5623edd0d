"""Sweeps and the report: identical results whatever runs them, every file present, and a
report.html that renders in headless Chromium without errors."""

import json
import os
import pathlib
import re
from html.parser import HTMLParser

import pytest

from sim.cli import main
from tests.browser import need_chromium, render


def sweep(tmp_path, name, *extra):
    out = tmp_path / name
    code = main(["sweep", "scenarios/seed-example.yaml", "--runs", "4", "--out", str(out), *extra])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    return sweep(tmp, "r", "--workers", "2", "--set", "faults=[{type: node-crash, probability: 0.2, duration: 2m}]")


def test_results_are_byte_identical_for_1_and_2_workers_and_repeat_runs(tmp_path, report):
    one = sweep(tmp_path, "one", "--workers", "1", "--set", "faults=[{type: node-crash, probability: 0.2, duration: 2m}]")
    again = sweep(tmp_path, "again", "--executor", "serial",
                  "--set", "faults=[{type: node-crash, probability: 0.2, duration: 2m}]")
    data = (report / "results.json").read_bytes()
    assert data == (one / "results.json").read_bytes() == (again / "results.json").read_bytes()
    assert (report / "summary.csv").read_bytes() == (one / "summary.csv").read_bytes()


def test_report_files_are_all_there(report):
    names = sorted(str(p.relative_to(report)) for p in report.rglob("*"))
    assert names == ["figures", "figures/distributions.svg", "figures/scatter.svg", "figures/timeline.svg",
                     "report.html", "results.json", "summary.csv", "summary.md"]
    data = json.loads((report / "results.json").read_text())
    assert len(data["runs"]) == 8 and {r["strategy"] for r in data["runs"]} == {"inplace", "replace"}
    csv_lines = (report / "summary.csv").read_text().splitlines()
    assert csv_lines[0] == "strategy,metric,n,mean,p50,p95,max,ci95_low,ci95_high"
    assert csv_lines[1].startswith("inplace,completed_share,4,")
    md = (report / "summary.md").read_text()
    assert md.startswith("# midair: seed-example, 1.14.10 → 1.16.15\n")
    assert "| metric | mean | p50 | p95 | max | 95% interval of the mean |" in md
    assert ("- WARN: disruption.local-storage workload/default/db: its local volumes are lost when the node is "
            "replaced; fix: move the data to network storage, or upgrade in place (for replace)") in md
    assert oct(os.stat(report / "report.html").st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tags = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids.update(v for k, v in attrs if k == "id")


def test_report_html_is_self_contained(report):
    text = (report / "report.html").read_text()
    assert not re.search(r'(src|href)="(https?:|//|[^"#])', text)  # nothing to fetch
    parser = _Ids()
    parser.feed(text)
    assert {"comparison", "timeline", "distributions", "scatter", "detail-0", "detail-1"} <= parser.ids
    assert parser.tags.count("svg") == 3
    assert "findings" in parser.ids


def test_report_html_renders_in_headless_chromium(report):
    need_chromium()
    dom, errors = render(str(report / "report.html"))
    assert errors == []
    assert dom.count("<svg") == 3
    assert '<table id="comparison">' in dom and "<td>pods_rescheduled</td>" in dom


def test_resume_keeps_finished_runs(tmp_path):
    out = tmp_path / "resumed"
    out.mkdir()
    full = sweep(tmp_path, "full", "--workers", "1")
    runs = json.loads((full / "results.json").read_text())["runs"]
    # pretend the sweep was interrupted after three runs; the last one's line was cut short
    from sim.sweep import jobs, variants
    work = jobs([(v, v.scenario.strategies) for v in variants("scenarios/seed-example.yaml", [], [])], 4, 42)
    lines = [json.dumps({"key": j.key, "data": r}) for j, r in zip(work[:3], runs[:3])]
    (out / ".runs.jsonl").write_text("\n".join(lines) + '\n{"key": "cut')
    code = main(["sweep", "scenarios/seed-example.yaml", "--runs", "4", "--out", str(out), "--resume", "--workers", "1"])
    assert code == 0
    assert (out / "results.json").read_bytes() == (full / "results.json").read_bytes()
    assert not (out / ".runs.jsonl").exists()


def test_grid_makes_one_variant_per_value(tmp_path):
    out = sweep(tmp_path, "grid", "--grid", "cluster.controlPlane.apiservers=1,2", "--strategy", "inplace",
                "--workers", "1")
    data = json.loads((out / "results.json").read_text())
    assert [(r["variant"], r["strategy"]) for r in data["runs"][::4]] == [
        ("cluster.controlPlane.apiservers=1", "inplace"), ("cluster.controlPlane.apiservers=2", "inplace")]
    downtime = [r["metrics"]["api_downtime_s"] > 0 for r in data["runs"]]
    assert downtime == [True] * 4 + [False] * 4
    assert "inplace [cluster.controlPlane.apiservers=1]" in (out / "summary.md").read_text()


def test_resume_without_out_is_a_usage_error(capsys):
    assert main(["sweep", "scenarios/seed-example.yaml", "--resume"]) == 2
    assert capsys.readouterr().err == "midair sweep: --resume needs --out DIR, the report directory of the interrupted sweep\n"


def test_readme_points_at_the_committed_example():
    assert pathlib.Path("reports/example/report.html").exists()


def test_dask_executor_gives_the_same_results(tmp_path):
    serial = sweep(tmp_path, "serial", "--executor", "serial")
    dask = sweep(tmp_path, "dask", "--executor", "dask")  # no --scheduler: an in-process Dask cluster
    assert (dask / "results.json").read_bytes() == (serial / "results.json").read_bytes()


def test_unreachable_dask_scheduler_is_exit_2(capsys):
    code = main(["run", "scenarios/seed-example.yaml", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1",
                 "--runs", "1"])
    assert code == 2
    assert capsys.readouterr().err.startswith("midair run: --scheduler tcp://127.0.0.1:1: cannot reach the Dask scheduler")


def test_resume_with_other_inputs_runs_them_again(tmp_path, capsys):
    out = tmp_path / "changed"
    sweep(tmp_path, "changed", "--workers", "1", "--strategy", "inplace")
    # the checkpoint of an interrupted sweep, then resumed with a changed scenario
    from sim.sweep import jobs, variants
    work = jobs([(v, v.scenario.strategies[:1]) for v in variants("scenarios/seed-example.yaml", [], [])], 4, 42)
    runs = json.loads((out / "results.json").read_text())["runs"]
    (out / ".runs.jsonl").write_text("".join(json.dumps({"key": j.key, "data": r}) + "\n" for j, r in zip(work, runs)))
    capsys.readouterr()
    fresh = sweep(tmp_path, "fresh", "--workers", "1", "--strategy", "inplace", "--set", "cluster.controlPlane.apiservers=1")
    code = main(["sweep", "scenarios/seed-example.yaml", "--runs", "4", "--out", str(out), "--resume", "--workers", "1",
                 "--strategy", "inplace", "--set", "cluster.controlPlane.apiservers=1"])
    assert code == 0
    assert (f"midair: 4 finished run(s) in {out / '.runs.jsonl'} were for other inputs (a changed scenario, --set or "
            "--grid) and are not reused") in capsys.readouterr().err
    assert (out / "results.json").read_bytes() == (fresh / "results.json").read_bytes()


@pytest.mark.parametrize("content, message", [
    ('{"foo": 1}\n{"key": "x", "data": {}}\n', "{f}:1: not a run record (expected key and data); run without --resume "
                                                "to start over"),
    ('[1, 2\n{"key": "x", "data": {}}\n', "{f}:1: not valid JSON; this is not a sweep's checkpoint (run without "
                                          "--resume to start over)"),
], ids=["not-a-record", "not-json"])
def test_a_corrupt_checkpoint_is_one_clear_error(tmp_path, capsys, content, message):
    out = tmp_path / "corrupt"
    out.mkdir()
    (out / ".runs.jsonl").write_text(content)
    assert main(["sweep", "scenarios/seed-example.yaml", "--runs", "1", "--out", str(out), "--resume"]) == 2
    assert capsys.readouterr().err == "midair sweep: " + message.format(f=out / ".runs.jsonl") + "\n"


def test_an_out_directory_that_cannot_be_made_is_one_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["sweep", "scenarios/seed-example.yaml", "--runs", "1", "--out", str(blocker)]) == 2
    assert capsys.readouterr().err == (f"midair sweep: --out {blocker}: cannot make the report directory there "
                                       "(File exists)\n")
