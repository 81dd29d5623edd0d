"""The documentation describes the code that exists: every scenario field and strategy knob."""

import pathlib

from models.strategies import BUILTIN
from sim.scenario.fields import SCENARIO
from sim.scenario.schema import ListOf, Obj, Ref

DOC = pathlib.Path("docs/scenario-format.md").read_text()


def field_paths(spec, prefix="", refs=None):
    """Every field's path; a ``Ref`` (a Kubernetes structure used in several places) is one path
    here, and its own fields are documented once, under its title (collected in ``refs``)."""
    if isinstance(spec, Ref):
        if refs is not None:
            refs[spec.title] = spec
        return
    if isinstance(spec, Obj):
        for name, f in spec.fields.items():
            path = f"{prefix}.{name}" if prefix else name
            if not isinstance(f.spec, Obj):  # mappings are documented through their fields
                yield path
            yield from field_paths(f.spec, path, refs)
    elif isinstance(spec, ListOf):
        yield from field_paths(spec.item, prefix + "[]", refs)


def test_every_scenario_field_is_documented():
    refs: dict = {}
    missing = [p for p in field_paths(SCENARIO, refs=refs) if f"`{p}`" not in DOC]
    done: set = set()
    while set(refs) - done:  # each structure's fields, and those of the structures inside it
        title = sorted(set(refs) - done)[0]
        done.add(title)
        assert f"### `{title}`" in DOC, title
        missing += [p for p in field_paths(refs[title].shape, title, refs) if f"`{p}`" not in DOC]
    assert missing == []


def test_every_strategy_parameter_is_documented():
    params = {p.name for _, ps in BUILTIN.values() for p in ps}
    assert sorted(p for p in params if f"| `{p}` |" not in DOC) == []


def test_every_metric_is_documented():
    from sim.metrics import METRIC_NAMES

    doc = pathlib.Path("docs/metrics.md").read_text()
    assert [m for m in METRIC_NAMES if f"| `{m}` |" not in doc] == []


def test_every_precheck_id_is_documented():
    from models.prechecks import CHECKS

    doc = pathlib.Path("docs/prechecks.md").read_text()
    assert [c.id for c in CHECKS if f"| `{c.id}` | {c.severity} |" not in doc] == []


def test_every_strategy_and_preset_is_documented():
    from models.strategies.presets import PRESETS

    doc = pathlib.Path("docs/strategies.md").read_text()
    assert [n for n in BUILTIN if f"## `{n}`" not in doc] == []
    assert [n for n in PRESETS if f"| `{n}` |" not in doc] == []


def test_the_testing_guide_names_every_generator_and_its_examples_run():
    import re

    import models.testing

    doc = pathlib.Path("docs/testing.md").read_text()
    assert [n for n in models.testing.__all__ if n.islower() and f"`{n}(" not in doc] == []
    blocks = list(re.finditer(r"```python\n(.*?)```", doc, re.S))
    assert len(blocks) == 3
    for block in blocks:
        scope: dict = {}
        # at its own lines of the file, so that tracebacks (and Hypothesis, which reads a test's source) find it
        code = "\n" * doc[:block.start(1)].count("\n") + block[1]
        exec(compile(code, "docs/testing.md", "exec"), scope)
        tests = [f for name, f in scope.items() if name.startswith("test_")]
        cases = [c for name, c in scope.items() if name.startswith("Test")]  # a state machine's TestCase
        assert len(tests) + len(cases) == 1
        if tests:
            tests[0]()  # a Hypothesis test: runs its examples, raises on a counter-example
        else:
            cases[0]("runTest").runTest()


def test_every_modelled_behaviour_names_its_upstream_source_and_an_existing_file():
    import re

    text = pathlib.Path("docs/fidelity.md").read_text()
    modelled = text.split("## Modelled", 1)[1].split("## Not modelled yet", 1)[0]
    rows = [line for line in modelled.splitlines() if line.startswith("| ") and not line.startswith("| Behaviour")]
    assert len(rows) >= 40
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 4, row
        behaviour, upstream, files, tests = cells
        assert behaviour and upstream, row
        paths = re.findall(r"`((?:models|sim)/[\w/]+\.py)`", files)
        assert paths or "preset" in files, row
        for path in paths:
            assert pathlib.Path(path).exists(), path
        for name in re.findall(r"`(test_\w+\.py)`", tests):
            assert pathlib.Path("tests", name).exists(), name
    assert "[docs/fidelity.md](docs/fidelity.md)" in pathlib.Path("README.md").read_text()
