"""Hook commands: placeholders shell-quoted, output logged, exit status kept, and a timeout that
kills everything the hook started."""

import asyncio

import pytest

from sim.adapters.hooks import HookResult, check_template, render, run_hook


def run(command, timeout_s=10.0):
    lines: list[str] = []
    return asyncio.run(run_hook(command, timeout_s, lines.append)), lines


def test_placeholders_are_shell_quoted():
    assert render("drain {node} --to {version}", node="a b; rm -rf /", version="1.30.2") == \
        "drain 'a b; rm -rf /' --to 1.30.2"


@pytest.mark.parametrize("template, problem", [
    ("upgrade {nod}", "unknown placeholder {nod}; valid: {node}, {pool}, {version}, {zone}, {instance}"),
    ("upgrade {node", "cannot read the template (expected '}' before end of string); write placeholders as "
                      "{node}, and braces as {{ }}"),
    ("upgrade {node} {{literal}}", None),
])
def test_template_problems(template, problem):
    assert check_template(template) == problem


def test_output_is_logged_and_the_exit_status_kept():
    result, lines = run("echo one; echo two >&2; exit 3")
    assert (result.ok, result.code, lines) == (False, 3, ["one", "two"])
    assert result.message("upgradeNode") == "hook upgradeNode exited 3: two"
    result, _ = run("echo node-7")
    assert (result.ok, result.last_line, result.message("provisionNode")) == (True, "node-7", "hook provisionNode succeeded")


def test_a_timeout_kills_the_hook_and_what_it_started(tmp_path):
    done = tmp_path / "done"
    # the shell waits on a child; killing only the shell would leave the child holding the output open
    result, lines = run(f"echo started; sleep 20; touch {done}", timeout_s=0.5)
    assert result == HookResult(False, None, "started", 0.5)
    assert result.message("upgradeNode") == "hook upgradeNode timed out after 0.5s"
    assert not done.exists()
