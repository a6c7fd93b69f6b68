"""Ordinary programs that run a command given in an option, or delete a tree as a side effect.

``rsync -e 'rm -rf D #' a b:c``, ``tar -I 'rm -rf D' -cf a b``, ``man -P 'rm -rf D' ls``,
``less +'!rm -rf D' f``, ``git -c alias.x='!rm -rf D' x``, ``mysql -e '\\! rm -rf D'``: each
runs a shell command that no wrapper table names (the GTFOBins escapes). :func:`escapes`
returns what such a program starts: ``Code`` for a value that is a shell command (parsed
and judged like ``sh -c``), and raises ``Unknown`` for a value in a grammar that can run
commands but is not followed here (vim ``-c``, gdb ``-ex``, a git config key that names a
program, a sed script with ``e``). Recursive deletes spelled otherwise than ``rm -r`` —
``rsync --delete``, ``tar --remove-files``, ``git clean -f``, ``zip -rm`` — start a
``Run`` of kind ``delete`` with argv ``rm -r -f -- <paths>``, as ``find -delete`` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from policies.shell.lexer import Unknown
from policies.shell.model import DELETE, Code, Run, Started, Word
from policies.shell.sed import sed_runs_commands

Handler = Callable[[tuple[Word, ...]], Started]


def _values(argv: tuple[Word, ...], short: str, long: tuple[str, ...], short_args: str) -> list[Word]:
    """The values of the options ``-X`` (a letter of ``short``) and ``--name`` (``long``),
    in every spelling (``-Xv``, ``-X v``, ``-aX v`` with getopt clustering, ``--name=v``,
    ``--name v``); ``short_args`` are the program's letters that take a value (a cluster
    ends at the first)."""
    out: list[Word] = []
    i = 1
    while i < len(argv):
        t, i = argv[i].text, i + 1
        if t == "--":
            break
        if t.startswith("--"):
            name, eq, attached = t[2:].partition("=")
            if name in long:
                if eq:
                    out.append(Word(attached, dynamic=argv[i - 1].dynamic))
                elif i < len(argv):
                    out.append(argv[i])
                    i += 1
            continue
        if not t.startswith("-") or t == "-":
            continue
        for j, letter in enumerate(t[1:], start=1):
            if letter in short_args:
                rest = t[j + 1:]
                value = Word(rest, dynamic=argv[i - 1].dynamic) if rest else (argv[i] if i < len(argv) else None)
                if not rest:
                    i += 1
                if letter in short and value is not None:
                    out.append(value)
                break
    return out


def _has(argv: tuple[Word, ...], letters: str, long: tuple[str, ...]) -> bool:
    """Whether a flag (a letter of ``letters`` in a short cluster, or a long name) is given."""
    for w in argv[1:]:
        t = w.text
        if t == "--":
            return False
        if t.startswith("--") and t[2:].partition("=")[0] in long:
            return True
        if t.startswith("-") and not t.startswith("--") and any(c in letters for c in t[1:]):
            return True
    return False


def _operands(argv: tuple[Word, ...]) -> list[Word]:
    return [w for w in argv[1:] if not w.text.startswith("-")]


def _delete(paths: list[Word]) -> Run:
    return Run((Word("rm"), Word("-r"), Word("-f"), Word("--"), *(paths or [Word(".")])), kind=DELETE)


def _codes(values: list[Word]) -> Started:
    return [Code(v) for v in values]


def _rsync(argv: tuple[Word, ...]) -> Started:
    # the receiving end of a transfer (``rsync --server -…e.iLsfxC …``): its -e is the
    # protocol's capabilities, not a program; a --delete still deletes here
    server = any(w.text == "--server" for w in argv)
    started = [] if server else _codes(_values(argv, "e", ("rsh",), "eBfT"))
    deletes = ("delete", "del", "delete-before", "delete-during", "delete-after", "delete-delay",
               "delete-excluded", "remove-source-files", "remove-sent-files")
    if _has(argv, "", deletes) and (_has(argv, "ra", ("recursive", "archive"))
                                     or _has(argv, "", ("remove-source-files", "remove-sent-files"))):
        started.append(_delete(_operands(argv)))
    return started


_TAR_CODE = ("use-compress-program", "to-command", "info-script", "new-volume-script")


def _tar(argv: tuple[Word, ...]) -> Started:
    if len(argv) > 1 and not argv[1].text.startswith("-") and re.search(r"[IF]", argv[1].text):
        raise Unknown("tar: old-style keys naming a program")
    started = _codes(_values(argv, "IF", _TAR_CODE, "bCfFgHIKLNTVX"))
    for value in _values(argv, "", ("checkpoint-action",), ""):
        if value.text.startswith("exec="):
            started.append(Code(Word(value.text[5:], dynamic=value.dynamic)))
    if _has(argv, "", ("remove-files",)):
        started.append(_delete(_operands(argv)))
    return started


def _zip(argv: tuple[Word, ...]) -> Started:
    started: Started = []
    for k, w in enumerate(argv[1:], start=1):
        if w.text == "-TT" and k + 1 < len(argv):
            started.append(Code(argv[k + 1]))
        elif w.text.startswith("--unzip-command") or w.text.startswith("-TT"):
            value = w.text.partition("=")[2] or (argv[k + 1].text if k + 1 < len(argv) else "")
            started.append(Code(Word(value, dynamic=w.dynamic)))
    if _has(argv, "m", ("move",)) and _has(argv, "rR", ("recurse-paths", "recurse-patterns")):
        started.append(_delete(_operands(argv)[1:]))
    return started


_GIT_KEYS = re.compile(r"alias\.|pager|editor|command|cmd|program|helper|textconv|filter\.|hookspath|fsmonitor|"
                       r"askpass|proxy|sshcommand|include|exec|shell|tool", re.I)
_GIT_CODE = ("upload-pack", "receive-pack", "exec", "extcmd")


def _git(argv: tuple[Word, ...]) -> Started:
    i, where = 1, Word(".")
    while i < len(argv) and argv[i].text.startswith("-"):
        t = argv[i].text
        if t in ("-c", "-C") and i + 1 < len(argv):
            if t == "-c" and _GIT_KEYS.search(argv[i + 1].text.partition("=")[0]):
                raise Unknown(f"git -c {argv[i + 1].text.partition('=')[0]}: a setting that runs a program")
            where = argv[i + 1] if t == "-C" else where
            i += 2
            continue
        if (t.startswith("-c") and _GIT_KEYS.search(t[2:].partition("=")[0])) or t.startswith(
                ("--config-env", "--exec-path=", "--git-dir", "--work-tree")):  # fmt: skip
            raise Unknown(f"git {t.partition('=')[0]}: runs or reads what the line does not show")
        i += 1
    rest = argv[i:]
    sub = rest[0].text if rest else ""
    started = _codes(_values(rest, "x" if sub in ("difftool", "rebase") else "", _GIT_CODE, "x"))
    if sub in ("bisect", "submodule", "filter-branch", "filter-repo", "daemon"):
        raise Unknown(f"git {sub} runs commands the line does not fully show")
    if sub == "clean" and _has(rest, "f", ("force",)) and not _has(rest, "n", ("dry-run",)):
        started.append(_delete([where, *_operands(rest)[1:]]))
    return started


def _less(argv: tuple[Word, ...]) -> Started:
    out: Started = []
    for w in argv[1:]:
        command = w.text[1:].lstrip(":") if w.text.startswith("+") else ""
        if command.startswith("+"):
            command = command[1:]
        if command.startswith(("!", "|")):
            out.append(Code(Word(command[1:], dynamic=w.dynamic)))
        elif command.startswith(("s", "o", "e", "v", "#")) or "!" in command:
            raise Unknown(f"{argv[0].text}: an initial command the bastion does not follow")
    return out


def _vim(argv: tuple[Word, ...]) -> Started:
    for w in argv[1:]:
        t = w.text
        if t in ("-c", "--cmd", "-S", "-s", "-W", "-w", "-u", "-U", "-i") or t.startswith("--cmd=") or (
                t.startswith("+") and not re.fullmatch(r"\+(\d*|/.*|\?.*)", t)):  # fmt: skip
            raise Unknown(f"{argv[0].text} {t}: editor commands can run programs")
    return []


def _man(argv: tuple[Word, ...]) -> Started:
    """man-db: ``-P pager``; ``-H[browser]`` takes its browser only attached."""
    out = _codes(_values(argv, "P", ("pager", "html"), "CRLmMSsepErP"))
    return out + [Code(Word(w.text[2:], dynamic=w.dynamic)) for w in argv[1:] if w.text.startswith("-H")
                  and len(w.text) > 2]


def _sed(argv: tuple[Word, ...]) -> Started:
    scripts = _values(argv, "e", ("expression",), "efls")
    if not scripts and not _values(argv, "f", ("file",), "efls"):  # a script file is trusted like any script
        scripts = _operands(argv)[:1]
    for w in scripts:
        if not w.static or sed_runs_commands(w.text):
            raise Unknown("sed: the script runs commands (e) or cannot be read")
    return []


def _gdb(argv: tuple[Word, ...]) -> Started:
    if any(w.text.split("=")[0] in ("-ex", "--ex", "-eval-command", "--eval-command", "-x", "--x", "-command",
                                     "--command", "-iex", "--init-eval-command", "-ix", "--init-command")
           for w in argv[1:]):  # fmt: skip
        raise Unknown("gdb: commands that can run programs")
    return []


def _mysql(argv: tuple[Word, ...]) -> Started:
    # -p takes its password only attached (-psecret): never the next word
    argv = tuple(w for w in argv if not (w.text.startswith("-p") and not w.text.startswith("--")))
    return _client_commands(argv, _values(argv, "e", ("execute",), "ehuPSD"))


def _psql(argv: tuple[Word, ...]) -> Started:
    return _client_commands(argv, _values(argv, "c", ("command",), "cdfhLopPRTUvF"))


def _client_commands(argv: tuple[Word, ...], values: list[Word]) -> Started:
    """mysql/mariadb ``-e`` and psql ``-c`` run client commands too: ``\\!`` and ``system``
    run a shell command; a pager is a shell command."""
    out: Started = _codes(_values(argv, "", ("pager",), ""))
    for value in values:
        for piece in re.split(r"[;\n]", value.text):
            piece = piece.strip()
            m = re.match(r"(?:\\!|system\s|\\o\s*\||\\g\s*\|)(.*)", piece, re.I | re.S)
            if m:
                out.append(Code(Word(m.group(1), dynamic=value.dynamic)))
            elif re.match(r"\\(?:copy\b.*\bprogram\b|setenv|set\s+pager|pset\s+pager|P\b)", piece, re.I | re.S):
                raise Unknown("a client command that runs a program")
    return out


_SQLITE_VALUED = frozenset({"-cmd", "-init", "-separator", "-newline", "-nullvalue", "-vfs", "-mmap", "-maxsize",
                            "-pagecache", "-lookaside", "-heap", "-escape"})
_SQLITE_SHELL = re.compile(r"\s*\.(?:shell|system)\s+(.*)", re.S)
_SQLITE_PROGRAM = re.compile(r"(?m:^\s*\.(?:once|output|import|read|excel|www|edit)\b)|\bedit\s*\(", re.I)


def _sqlite3(argv: tuple[Word, ...]) -> Started:
    """sqlite3's commands in its arguments (after the database) and ``-cmd``: ``.shell`` and
    ``.system`` run a shell command; ``.once``/``.output``/``.import``/``.read`` with ``|``
    and the ``edit()`` function run programs the line names in sqlite's own syntax."""
    commands: list[Word] = []
    database_seen, i = False, 1
    while i < len(argv):
        t = argv[i].text.lstrip("-")
        if argv[i].text.startswith("-") and argv[i].text != "-":
            if "-" + t in _SQLITE_VALUED:
                if t == "cmd" and i + 1 < len(argv):
                    commands.append(argv[i + 1])
                i += 1
        elif database_seen:
            commands.append(argv[i])
        else:
            database_seen = True
        i += 1
    out: Started = []
    for word in commands:
        for piece in re.split(r"[;\n]", word.text):
            m = _SQLITE_SHELL.match(piece)
            if m:
                out.append(Code(Word(m.group(1), dynamic=word.dynamic)))
        if _SQLITE_PROGRAM.search(word.text) and ("|" in word.text or "edit" in word.text.lower()):
            raise Unknown("sqlite3: a command that runs a program")
    return out


def _dc(argv: tuple[Word, ...]) -> Started:
    """dc runs the rest of a line after ``!`` as a shell command."""
    out: Started = []
    for value in _values(argv, "e", ("expression",), "ef"):
        for line in value.text.split("\n"):
            if "!" in line:
                out.append(Code(Word(line.split("!", 1)[1], dynamic=value.dynamic)))
    return out


def _emacs(argv: tuple[Word, ...]) -> Started:
    if any(w.text.lstrip("-").partition("=")[0] in ("eval", "execute") for w in argv[1:]):
        raise Unknown("emacs: Lisp code the line does not show as a command")
    return []


def _make(argv: tuple[Word, ...]) -> Started:
    if any(w.text in ("-E", "--eval", "-f-", "-") or w.text.startswith(("--eval=", "-E")) for w in argv[1:]) or \
            any(v.text in ("-", "/dev/stdin") for v in _values(argv, "f", ("file", "makefile"), "CfIjlOoW")):
        raise Unknown("make: rules the line does not show")
    return []


def _scp(argv: tuple[Word, ...]) -> Started:
    if _has(argv, "tf", ()):  # the remote end of a legacy transfer (scp -t/-f) starts no ssh
        return []
    for value in _values(argv, "o", (), "cDFiJlmoPSX"):
        if re.search(r"command|match", value.text, re.I):
            raise Unknown("scp runs a local command from its options")
    if _values(argv, "F", (), "cDFiJlmoPSX"):
        raise Unknown("scp -F: a config file may run local commands")
    return _codes(_values(argv, "S", (), "cDFiJlmoPSX"))


def _crontab(argv: tuple[Word, ...]) -> Started:
    if _operands(argv) or any(w.text == "-" for w in argv[1:]) or _has(argv, "e", ()):
        raise Unknown("crontab installs commands the line does not show")
    return []


ESCAPES: dict[str, Handler] = {
    "rsync": _rsync, "tar": _tar, "gtar": _tar, "bsdtar": _tar, "zip": _zip, "git": _git,
    "less": _less, "more": _less, "most": _less, "man": _man,
    "vi": _vim, "vim": _vim, "nvim": _vim, "view": _vim, "vimdiff": _vim, "ex": _vim, "rvim": _vim, "gvim": _vim,
    "sed": _sed, "gsed": _sed, "gdb": _gdb, "mysql": _mysql, "mariadb": _mysql, "psql": _psql,
    "make": _make, "gmake": _make, "scp": _scp, "sftp": _scp, "crontab": _crontab, "sqlite3": _sqlite3,
    "dc": _dc, "emacs": _emacs, "emacs-nox": _emacs,
}  # fmt: skip


def escapes(program: str, argv: tuple[Word, ...]) -> Started | None:
    """What ``program`` starts through its options, or None when it has no such options."""
    handler = ESCAPES.get(program)
    return None if handler is None else handler(argv)
