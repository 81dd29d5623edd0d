"""Timing from other files: a platform profile, an included timing file, `--timing FILE`, layered in that
order under the scenario's own fields (and `--set` over everything); a problem in an included file is
reported at its own file and line."""

import pathlib

import pytest
import yaml

from sim.scenario import InputError, load_scenario
from sim.scenario.fields import TIMING_PROFILES
from sim.scenario.timing_files import profile_file

BASE = """apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: t}
cluster: {version: "1.29.3", nodePools: [{name: p, count: 2}]}
target: "1.30.2"
"""


def write(tmp_path, timing: str, files: dict | None = None) -> str:
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    path = tmp_path / "s.yaml"
    path.write_text(BASE + timing)
    return str(path)


CALIBRATED = """timing:
  nodeProvision: {lognormal: {median: 61s, p95: 140s}, samples: 9, source: journal}
  podStartup: {empirical: [2s, 3s, 9s], samples: 3, source: pods}
  inplace: {replaceBinaries: 20s, rejoin: 0s}
"""


@pytest.mark.parametrize("timing, sets, expect", [
    ("timing: {include: cal.yaml}\n", [], {"node_provision": ("lognormal", (61.0, 140.0)),
                                            "pod_startup": ("empirical", (2.0, 3.0, 9.0)),
                                            "control_plane_instance": ("uniform", (120.0, 300.0))}),
    ("timing: {include: cal.yaml, nodeProvision: 30s}\n", [], {"node_provision": ("constant", (30.0,))}),
    ("timing: {profile: eks, include: cal.yaml}\n", [], {"node_provision": ("lognormal", (61.0, 140.0)),
                                                         "control_plane_instance": ("uniform", (1200.0, 2400.0))}),
    ("timing: {include: cal.yaml}\n", ["timing.podStartup=4s"], {"pod_startup": ("constant", (4.0,))}),
], ids=["include", "own-field-wins", "profile-under-include", "set-wins"])
def test_timing_layers(tmp_path, timing, sets, expect):
    s = load_scenario(write(tmp_path, timing, {"cal.yaml": CALIBRATED}), sets)
    assert {k: (getattr(s.timing, k).kind, getattr(s.timing, k).params) for k in expect} == expect


def test_inplace_steps_are_layered_one_by_one(tmp_path):
    s = load_scenario(write(tmp_path, "timing: {include: cal.yaml, inplace: {stopKubelet: 1s}}\n",
                            {"cal.yaml": CALIBRATED}))
    assert [(k, d.describe()) for k, d in s.timing.inplace_steps] == [
        ("stopKubelet", "1s"), ("replaceBinaries", "20s"), ("startKubelet", "3s"), ("rejoin", "0s")]


def test_a_timing_file_on_the_command_line_beats_the_scenario_but_not_set(tmp_path):
    path = write(tmp_path, "timing: {nodeProvision: 30s, podStartup: 7s}\n", {"cal.yaml": CALIBRATED})
    s = load_scenario(path, ["timing.podStartup=4s"], timing=str(tmp_path / "cal.yaml"))
    assert (s.timing.node_provision.params, s.timing.pod_startup.params) == ((61.0, 140.0), (4.0,))


@pytest.mark.parametrize("timing, files, problems", [
    ("timing: {include: missing.yaml}\n", {},
     ["{d}/s.yaml:6: timing.include: no such file {d}/missing.yaml; give a timing file (midair calibrate writes one: "
      "timing.yaml)"]),
    ("timing: {include: bad.yaml}\n", {"bad.yaml": "timing:\n  nodeProvision:\n    lognormal: {median: 10s}\n"},
     ["{d}/bad.yaml:3: timing.nodeProvision.lognormal.p95: missing required field 'p95' (duration, e.g. 90s, 15m)"]),
    ("timing: {include: nested.yaml}\n", {"nested.yaml": "timing: {include: other.yaml}\n"},
     ["{d}/nested.yaml:1: timing.include: a timing file cannot name another (include); put its fields in this file"]),
    ("timing: {profile: ekss}\n", {},
     ["{d}/s.yaml:6: timing.profile: 'ekss' is not one of the choices; did you mean 'eks'? valid: eks, gke, aks, ack, "
      "kubeadm"]),
], ids=["missing", "bad-field-in-the-included-file", "nested-include", "unknown-profile"])
def test_timing_file_problems_name_the_file_and_line(tmp_path, timing, files, problems):
    with pytest.raises(InputError) as err:
        load_scenario(write(tmp_path, timing, files))
    assert [str(p) for p in err.value.problems] == [p.format(d=tmp_path) for p in problems]


def test_a_missing_timing_file_on_the_command_line_is_named_as_the_option(tmp_path):
    with pytest.raises(InputError) as err:
        load_scenario(write(tmp_path, ""), timing=str(tmp_path / "nope.yaml"))
    assert [str(p) for p in err.value.problems] == [
        f"--timing {tmp_path / 'nope.yaml'}: timing: no such file {tmp_path / 'nope.yaml'}; give a timing file "
        "(midair calibrate writes one: timing.yaml)"]


@pytest.mark.parametrize("name", TIMING_PROFILES)
def test_every_profile_loads_and_every_figure_names_its_source(tmp_path, name):
    data = yaml.safe_load(pathlib.Path(profile_file(name)).read_text())["timing"]
    assert data and all(isinstance(v, dict) and len(v.get("source", "")) > 40 for v in data.values())
    s = load_scenario(write(tmp_path, f"timing: {{profile: {name}}}\n"))
    assert s.timing.node_provision is not None


def test_profiles_ship_as_package_data():
    text = pathlib.Path("pyproject.toml").read_text()
    assert 'sim = ["profiles/*.yaml"]' in text
    assert sorted(p.stem for p in pathlib.Path(profile_file("eks")).parent.glob("*.yaml")) == sorted(TIMING_PROFILES)
