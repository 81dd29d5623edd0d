"""The command line behaves like its neighbours (kubectl, pluto, kubent): --version, one table
of exit codes, the kubectl plugin's usage line, shell completion from the parser, colour."""

import importlib.metadata
import io
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from sim.cli import EXIT_CODES, build_parser, main, prog_name
from sim.completion import describe, script
from sim.prechecks import format_findings
from sim.style import colour_allowed

BIN = pathlib.Path(sys.executable).parent


def test_version_is_the_installed_distributions(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"midair {importlib.metadata.version('midair')}\n"


def test_version_answers_without_loading_the_commands():
    code = ("import sys, sim.cli; sim.cli.main(['--version']); "
            "print(sorted(m for m in sys.modules if m.startswith(('sim.commands', 'sim.scenario', 'simpy', 'matplotlib', "
            "'networkx'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.splitlines()[1:] == ["[]"]


HEAVY = ("simpy", "matplotlib", "networkx", "lightkube", "httpx2", "asyncio", "hypothesis", "distributed", "rich")


@pytest.mark.parametrize("argv, loaded", [
    (["--help"], []),
    (["validate", "scenarios/quickstart.yaml"], []),
    (["path", "--scenario", "scenarios/quickstart.yaml"], ["networkx"]),
], ids=["help", "validate", "path-plans"])
def test_a_command_loads_only_the_libraries_it_uses(argv, loaded):
    """Start-up cost: --help and validate (no run, no plan, no cluster) load none of the heavy libraries."""
    code = (f"import sys, sim.cli\ntry:\n    sim.cli.main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stderr.splitlines()[-1] == str(loaded)


@pytest.mark.parametrize("argv0, prog", [
    ("/usr/local/bin/kubectl-midair", "kubectl midair"),
    ("kubectl-midair.exe", "kubectl midair"),
    ("/work/.venv/bin/midair", "midair"),
    ("/usr/lib/python3/sim/cli.py", "midair"),
], ids=["plugin", "plugin-on-windows", "midair", "python-m"])
def test_the_usage_line_names_how_midair_was_called(argv0, prog):
    assert prog_name(argv0) == prog


def test_as_a_kubectl_plugin_usage_and_errors_say_kubectl_midair(capsys):
    assert main(["skew"], prog="kubectl midair") == 2
    assert capsys.readouterr().err.startswith("kubectl midair skew: no versions to check")
    with pytest.raises(SystemExit):
        main(["run"], prog="kubectl midair")
    assert capsys.readouterr().err.startswith("usage: kubectl midair run [-h]")


def test_the_installed_plugin_says_kubectl_midair():
    proc = subprocess.run([str(BIN / "kubectl-midair"), "frobnicate"], capture_output=True, text=True)
    assert (proc.returncode, proc.stderr.splitlines()[0]) == (2, "usage: kubectl midair [-h] [--version] COMMAND ...")


def _readme_exit_codes() -> list[tuple[int, str]]:
    section = pathlib.Path("README.md").read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return [(int(code), text) for code, text in re.findall(r"^\| (\d+) \| (.*) \|$", section, re.M)]


def test_one_table_of_exit_codes_in_the_readme_the_help_and_the_docstring(capsys):
    from sim import errors

    assert [code for code, _ in EXIT_CODES[:3]] == [errors.EXIT_OK, errors.EXIT_FINDINGS, errors.EXIT_BAD_INPUT]
    assert [(code, text.replace("\\|", "|")) for code, text in _readme_exit_codes()] == list(EXIT_CODES)
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    docstring = " ".join(sys.modules["sim.cli"].__doc__.split())
    for code, text in EXIT_CODES:
        assert f"{code} {text}" in help_text
        assert f"{code} {text}" in docstring


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_knows_every_command_and_option_of_the_parser(capsys, shell):
    assert main(["completion", shell]) == 0
    text = capsys.readouterr().out
    top, commands = describe(build_parser())
    assert [c.name for c in commands] == ["validate", "precheck", "skew", "path", "run", "sweep", "recommend",
                                          "trace", "fuzz",
                                          "apply", "snapshot", "import", "calibrate", "completion"]
    words = {s for o in top for s in o.strings} | {c.name for c in commands} | {
        s for c in commands for o in c.options for s in o.strings}
    short = {w[1:] for w in words if re.fullmatch(r"-\w", w)}  # fish writes -o as "-s o"
    missing = [w for w in sorted(words) if w not in text and not (shell == "fish" and (
        w.startswith("--") and f"-l {w[2:]}" in text or w[1:] in short and f"-s {w[1:]}" in text))]
    assert missing == []


def _bash_complete(line: str) -> list[str]:
    words = line.split(" ")
    program = (f"source <({sys.executable} -m sim.cli completion bash)\n"
               f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; _midair\n"
               'printf "%s\\n" "${COMPREPLY[@]}"')
    return subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True).stdout.split()


def test_bash_completes_commands_options_and_choices():
    results = [_bash_complete(line) for line in ("midair va", "kubectl-midair run --fail", "midair run -o m",
                                                 "midair skew --allowed kube-p", "midair completion ")]
    assert results == [["validate"], ["--fail-on"], ["markdown"], ["kube-proxy"], ["bash", "zsh", "fish"]]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_and_choices():
    program = (f"{sys.executable} -m sim.cli completion fish | source; complete -C 'midair pa'; "
               "complete -C 'kubectl-midair precheck -o ya'")
    out = subprocess.run(["fish", "-c", program], capture_output=True, text=True, check=True).stdout
    assert [line.split("\t")[0] for line in out.splitlines()] == ["path", "yaml"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_is_valid_zsh(tmp_path):
    (tmp_path / "_midair").write_text(script("zsh", build_parser()))
    assert subprocess.run(["zsh", "-n", str(tmp_path / "_midair")], capture_output=True, text=True).stderr == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("stream, env, allowed", [
    (_Terminal(), {}, True),
    (_Terminal(), {"NO_COLOR": "1"}, False),
    (_Terminal(), {"NO_COLOR": ""}, True),  # no-color.org: set and not empty
    (_Terminal(), {"TERM": "dumb"}, False),
    (io.StringIO(), {}, False),  # a pipe or a file
], ids=["terminal", "no-color", "no-color-empty", "dumb-terminal", "pipe"])
def test_colour_only_where_the_terminal_allows_it(monkeypatch, stream, env, allowed):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert colour_allowed(stream) is allowed


def test_precheck_colours_block_and_warn_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["precheck", "scenarios/precheck-gallery.yaml"]) == 1
    lines = terminal.getvalue().splitlines()
    assert "  \033[1;31mBLOCK\033[0m core.apiservice-unavailable  apiservice/v1beta1.metrics.k8s.io" in lines
    assert any(line.startswith("  \033[33mWARN \033[0m ") for line in lines)
    assert not any("INFO" in line and "\033[" in line for line in lines)


def test_findings_are_plain_text_without_colour():
    from models.prechecks.base import Finding

    finding = Finding("core.x", "core", "BLOCK", "node/a", "why", "how")
    assert format_findings([finding]).splitlines()[1] == "  BLOCK core.x  node/a"
    assert format_findings([finding], colour=True).splitlines()[1] == "  \033[1;31mBLOCK\033[0m core.x  node/a"



def test_run_colours_what_blocks_it_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["run", "scenarios/seed-example.yaml", "--set", "target=1.33.0"]) == 1
    assert terminal.getvalue().splitlines()[2].startswith("  \033[1;31mBLOCK\033[0m node.dockershim  node/workers-1: ")
