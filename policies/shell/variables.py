"""Variables that make the programs of a line run a command, or load code, of their own.

``PAGER='rm -rf D' man ls``, ``GIT_SSH_COMMAND='rm -rf D' git fetch``, ``export
LESSOPEN='|rm -rf D'; less f``: the program runs the variable's value through a shell.
Such a value is judged as a command of the line (:func:`command_of`); a variable that
makes programs load code from a file (``LD_PRELOAD``, ``BASH_ENV``, ``NODE_OPTIONS``…)
makes the line unknown, since that code is not in the line.
"""

from __future__ import annotations

import re

from policies.shell.lexer import Unknown
from policies.shell.model import Word

COMMAND_VARS = frozenset({
    "PAGER", "MANPAGER", "GIT_PAGER", "SYSTEMD_PAGER", "BAT_PAGER", "PSQL_PAGER", "MYSQL_PAGER", "EDITOR",
    "VISUAL", "GIT_EDITOR", "SUDO_EDITOR", "SYSTEMD_EDITOR", "FCEDIT", "BROWSER", "GIT_SSH", "GIT_SSH_COMMAND",
    "GIT_PROXY_COMMAND", "GIT_EXTERNAL_DIFF", "GIT_ASKPASS", "SSH_ASKPASS", "SUDO_ASKPASS", "RSYNC_RSH",
    "RSYNC_CONNECT_PROG", "CVS_RSH", "PROMPT_COMMAND", "MANROFFSEQ", "LESSEDIT",
})  # fmt: skip
"""Their value is a command some program runs (through a shell, or as a program name)."""
LESS_VARS = frozenset({"LESSOPEN", "LESSCLOSE"})
"""``less`` runs their value (a leading ``|`` or ``||`` is a pipe marker; ``%s`` the file)."""
CODE_VARS = frozenset({"BASH_ENV", "ENV", "PS4", "SHELLOPTS", "BASHOPTS", "GCONV_PATH", "NODE_OPTIONS", "RUBYOPT",
                       "PERL5OPT", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_GLOBAL", "GIT_CONFIG",
                       "GIT_EXEC_PATH"})  # fmt: skip
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[[^]]*\])?\+?=(.*)", re.S)


def command_of(word: Word) -> Word | None:
    """The command that assignment ``word`` (``NAME=value``) gives programs to run, or
    None; raises :class:`Unknown` for a variable that makes them load code, or a command
    whose value is not known before the line runs."""
    m = _ASSIGNMENT.fullmatch(word.text)
    if m is None:
        return None
    name, value = m.group(1), m.group(2)
    if name in CODE_VARS or name.startswith(("LD_", "BASH_FUNC_", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")):
        raise Unknown(f"{name}= makes programs load code the line does not show")
    if name in LESS_VARS:
        value = value.lstrip("|")
    elif name not in COMMAND_VARS:
        return None
    if word.dynamic:
        raise Unknown(f"{name}= names a command not known before the line runs")
    return Word(value.replace("%s", "f"))
