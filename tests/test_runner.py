"""The reconcile loop, the ports and the registry, apart from any one strategy."""

from importlib.metadata import EntryPoint

import pytest

from models.actions import Cordon
from models.plan import make_plan
from sim import registry
from sim.adapters.dryrun import DryRunPort
from sim.adapters.simulated import SimulatedPort
from sim.runner import FileJournal, Journal, LogEntry, reconcile
from sim.scenario import load_scenario
from sim.simulate import simulate
from sim.simulate import world_for


def test_dry_run_records_and_applies_nothing():
    scenario = load_scenario("scenarios/seed-example.yaml")
    world = world_for(scenario, seed=1)
    port = DryRunPort(SimulatedPort(world))
    result = port.submit(Cordon("test", "workers-1"))
    assert (result.accepted, result.message) == (True, "dry run: not applied")
    assert [a.describe() for _, a in port.recorded] == ["Cordon node/workers-1"]
    assert port.observe().node("workers-1").schedulable is True


def test_horizon_halts_a_run_that_does_not_converge():
    scenario = load_scenario("scenarios/seed-example.yaml", ["horizon=10m"])
    r = simulate(scenario, scenario.strategy("inplace"), seed=1)
    assert r.completed is False
    assert r.halted == ("did not finish within the horizon (600s simulated); still to do: "
                        "kube-apiserver-0 at 1.15, wants 1.16.15; kube-apiserver-1 at 1.15, wants 1.16.15; "
                        "kube-controller-manager-0 at 1.15, wants 1.16.15")
    assert r.metrics["duration_s"] == 600.0


def test_file_journal_survives_a_restart(tmp_path):
    path = str(tmp_path / "run.journal")
    journal = FileJournal(path, header={"strategy": "inplace"})
    journal.save({"cordoned": ["a"]}, [LogEntry(1.0, "action", "Cordon node/a", "why")])
    journal.save({"cordoned": ["a", "b"]}, [LogEntry(2.0, "action", "Cordon node/b", "why")])
    again = FileJournal(path, resume=True)
    assert again.header == {"strategy": "inplace"}
    assert again.memo == {"cordoned": ["a", "b"]}
    assert [e.action for e in again.entries] == ["Cordon node/a", "Cordon node/b"]
    assert again.decisions == 2


def test_resuming_from_a_journal_repeats_nothing():
    """Stop the loop after a few decisions, start a new one from the journal: same end, no action twice."""
    scenario = load_scenario("scenarios/seed-example.yaml")
    spec = scenario.strategy("replace")
    plan = make_plan(scenario.cluster, scenario.target, spec.param("maxSurge"), spec.param("maxUnavailable"))
    world = world_for(scenario, seed=1)
    port = SimulatedPort(world)
    journal = Journal()
    strategy = registry.strategy_class("replace")(**spec.kwargs())
    first = reconcile(port, strategy, plan, journal)
    next(first)
    for _ in range(40):  # the first operator runs a while, then dies
        world.env.run(until=world.env.now + 30)
        first.send(None)
    first.close()
    proc = port.drive(reconcile(port, registry.strategy_class("replace")(**spec.kwargs()), plan, journal))
    world.env.run(until=proc)
    assert proc.value.completed
    actions = [(e.action, e.detail) for e in journal.entries if e.kind == "action"]  # detail names a new node
    assert len(actions) == len(set(actions)) == 21


def test_entry_point_strategies_are_found(monkeypatch):
    ep = EntryPoint("workers-first", "tests.strategy_fixtures:WorkersFirst", registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep] if group == registry.GROUP else [])
    assert "workers-first" in registry.known_names()
    assert registry.strategy_class("workers-first").NAME == "workers-first"
    assert [p.name for p in registry.params_for("workers-first")][:2] == ["maxSurge", "maxUnavailable"]


def test_unknown_strategy_lists_the_known_ones():
    with pytest.raises(registry.UnknownStrategy) as err:
        registry.strategy_class("canary")
    assert str(err.value) == ("unknown strategy 'canary'; known: bluegreen, inplace, karpenter-drift, replace, surge "
                              "(or a class as module:attr)")


@pytest.mark.parametrize("target, message", [
    ("tests.strategy_fixtures:WorkersFirst", None),
    ("json:dumps", "strategy 'json:dumps' names 'json:dumps', which is not a strategy class (it has no decide or "
                   "PARAMS; subclass models.strategies.base.Strategy)"),
    ("collections:nope", "strategy 'collections:nope' names 'collections:nope', which cannot be imported (module "
                         "'collections' has no attribute 'nope')"),
])
def test_a_strategy_named_as_module_attr_must_be_a_strategy_class(target, message):
    if message is None:
        assert registry.strategy_class(target).NAME == "workers-first"
        return
    with pytest.raises(registry.UnknownStrategy) as err:
        registry.strategy_class(target)
    assert str(err.value) == message


def test_an_action_refused_for_good_halts_the_loop():
    from sim.adapters.port import SubmitResult
    from sim.simulate import build_strategy

    scenario = load_scenario("scenarios/seed-example.yaml")
    port = SimulatedPort(world_for(scenario, seed=1))
    port.submit = lambda action: SubmitResult(False, "no hook for this", permanent=True)
    spec = scenario.strategy("inplace")
    journal = Journal()
    loop = reconcile(port, build_strategy(spec), make_plan(scenario.cluster, scenario.target, 0, 1), journal)
    with pytest.raises(StopIteration) as stop:
        next(loop)
    assert stop.value.value.halted == "UpgradeControlPlaneInstance kube-apiserver-0 to 1.15: no hook for this"
    assert [(e.kind, e.action) for e in journal.entries] == [
        ("failed", "UpgradeControlPlaneInstance kube-apiserver-0 to 1.15"), ("halt", "Halt")]


@pytest.mark.parametrize("content, message", [
    ('{"header": {}}\n[1, 2\n{"memo": {}, "log": []}\n', "{f}:2: not valid JSON; this is not a midair journal"),
    ('{"foo": 1}\n', "{f}:1: expected a header; this is not a midair journal"),
    ('{"header": {}}\n{"memo": {}}\n', "{f}:2: expected a decision (memo and log); this is not a midair journal"),
], ids=["not-json", "no-header", "no-log"])
def test_a_file_that_is_not_a_journal_is_one_clear_error(tmp_path, content, message):
    from sim.runner import JournalError

    path = tmp_path / "j"
    path.write_text(content)
    with pytest.raises(JournalError) as err:
        FileJournal(str(path), resume=True)
    assert str(err.value) == message.format(f=path)


def test_a_decision_that_changes_nothing_adds_no_line_to_the_journal(tmp_path):
    path = tmp_path / "run.journal"
    journal = FileJournal(str(path), header={"strategy": "inplace"})
    journal.intend({"phase": "workers 1.30"})
    journal.save({"phase": "workers 1.30"}, [LogEntry(1.0, "action", "Cordon node/a", "why")])
    for _ in range(50):  # waiting for the drain: the same memo, nothing done
        journal.intend({"phase": "workers 1.30"})
        journal.save({"phase": "workers 1.30"}, [])
    journal.intend({"phase": "workers 1.30", "cordoned": ["a"]})
    assert len(path.read_text().splitlines()) == 4  # header, intent, the cordon, the new intent
    again = FileJournal(str(path), resume=True)
    assert (again.memo, [e.action for e in again.entries]) == ({"phase": "workers 1.30", "cordoned": ["a"]},
                                                               ["Cordon node/a"])
