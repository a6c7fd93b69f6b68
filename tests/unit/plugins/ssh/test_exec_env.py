"""Variables an SSH client sends with ``env`` requests are judged with the exec line they
apply to (plugins.ssh.channels.judged_line), under the demo's no-recursive-rm rule."""

from __future__ import annotations

import pytest

from plugins.ssh.channels import judged_line
from plugins.ssh.options import SSHOptions
from policies.files import GuardMatch
from policies.matching import match_command
from tests.unit.policies.shell.corpus import DEMO_RULE

RULE = GuardMatch(**DEMO_RULE)  # type: ignore[arg-type]


@pytest.mark.parametrize("env", [
    {"PAGER": "rm -rf /srv/victim"},
    {"GIT_SSH_COMMAND": "rm -rf /srv/victim"},
    {"LESSOPEN": "|rm -rf /srv/victim %s"},
    {"LD_PRELOAD": "/tmp/evil.so"},
    {"BASH_ENV": "/tmp/evil.sh"},
    {"LANG": "C", "EDITOR": "rm -rf /srv/victim"},
])
def test_variables_that_run_or_load_code_are_judged(env: dict[str, str]) -> None:
    assert not match_command(RULE, "git log")
    assert match_command(RULE, judged_line("git log", env)), judged_line("git log", env)


@pytest.mark.parametrize("env", [{}, {"LANG": "en_US.UTF-8", "LC_ALL": "C", "TZ": "UTC"}, {"MY_APP_MODE": "x y"}])
def test_plain_variables_change_nothing(env: dict[str, str]) -> None:
    assert not match_command(RULE, judged_line("ls -la", env))


def test_locale_variables_are_not_shown_in_the_judged_line() -> None:
    assert judged_line("ls", {"LANG": "C.UTF-8", "LC_CTYPE": "C"}) == "ls"
    assert judged_line("ls", {"PAGER": "less -R"}) == "export PAGER='less -R'; ls"


@pytest.mark.parametrize(("name", "allowed"), [
    ("LANG", True), ("PAGER", True), ("BASH_FUNC_ls%%", False), ("BASH_FUNC_ls", False), ("A B", False),
    ("1X", False), ("X=Y", False),
])
def test_only_shell_names_are_passed_on(name: str, allowed: bool) -> None:
    assert SSHOptions(env_allow=("*",)).env_allowed(name) is allowed
