"""models/ decides, sim/ acts: importing models must not pull in the acting libraries."""

import subprocess
import sys

FORBIDDEN = ("simpy", "matplotlib", "lightkube", "kubernetes", "dask", "sim")


def test_importing_models_leaves_acting_libraries_out():
    code = (
        "import sys, pkgutil, importlib, models\n"
        "for m in pkgutil.walk_packages(models.__path__, 'models.'):\n"
        "    if not m.name.startswith('models.testing'):\n"
        "        importlib.import_module(m.name)\n"
        f"print(' '.join(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


def test_the_generators_import_hypothesis_and_models_only():
    code = (
        "import sys, models.testing\n"
        f"print(' '.join(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


def test_models_sources_import_nothing_from_sim_or_simpy():
    import pathlib
    import re

    offenders = []
    for path in pathlib.Path("models").rglob("*.py"):
        for line in path.read_text().splitlines():
            if re.match(r"\s*(from|import)\s+(sim|simpy|matplotlib|lightkube|kubernetes)(\.|\s|$)", line):
                offenders.append(f"{path}: {line.strip()}")
    assert offenders == []


def test_the_world_takes_plain_records_and_never_imports_the_scenario_format():
    import pathlib
    import re

    offenders = []
    for path in [*pathlib.Path("sim/world").rglob("*.py"), pathlib.Path("sim/faults.py"), pathlib.Path("sim/sampling.py")]:
        for line in path.read_text().splitlines():
            if re.match(r"\s*(from|import)\s+sim\.(scenario|adapters|runner|commands|cli)(\.|\s|$)", line):
                offenders.append(f"{path}: {line.strip()}")
    assert offenders == []
