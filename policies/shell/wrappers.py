"""Programs that run other programs: what each one runs, so the wrapped command is judged.

``unwrap(program, argv)`` returns the commands a wrapper starts: ``Run(argv)`` for an
argument vector (``nice rm -rf D`` runs ``rm -rf D``), ``Code(word)`` for a shell string
(``sh -c``, ``watch``, ``su -c``, ``ssh host cmd``). ``INTERPRETERS`` take inline code.
A wrapper that would read its commands from stdin (``sh``, ``bash -s``, ``su``,
``ssh host``) raises ``Unknown``: the commands are not in the line. Interpreters are in
policies/shell/interpreters.py.
"""

from __future__ import annotations

import re

from policies.shell.escapes import escapes
from policies.shell.interpreters import STDIN_PATHS
from policies.shell.lexer import Unknown
from policies.shell.model import DELETE, Code, Run, Started, Word
from policies.shell.options import Spec, spec, split_options
from policies.shell.variables import command_of

__all__ = ["Code", "Run", "Started", "unwrap"]

POSIX_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "rbash", "ksh93",
                          "lksh", "pdksh", "oksh", "loksh", "bosh", "hush"})
OTHER_SHELLS = frozenset({"fish", "csh", "tcsh", "xonsh", "nu", "pwsh", "elvish", "rc", "es", "ion", "oil",
                          "osh", "ysh", "powershell"})
OPAQUE = frozenset({"eval", ".", "source", "alias", "enable", "parallel", "at", "batch", "sem", "coproc",
                    "expect", "tmux", "screen", "sg", "newgrp", "runuser", "systemd-run", "nsenter", "unshare",
                    "firejail", "bwrap", "pkexec", "byobu", "dtach", "abduco", "capsh", "cpulimit", "proot",
                    "numactl", "cgexec", "chpst", "envdir", "softlimit", "setuidgid", "rlwrap", "trickle",
                    "torsocks", "torify", "xvfb-run", "dbus-launch", "daemonize", "start-stop-daemon",
                    "systemd-nspawn", "machinectl", "lxc-attach", "timelimit", "lckdo", "with-lock-ex",
                    "nix-shell", "scl", "direnv"})
"""Programs whose commands come from a string or stdin in a grammar the parser does not
follow: a line that runs one is unknown."""

_SPECS: dict[str, Spec] = {
    "env": spec("uCS", "i0v", "unset chdir split-string", "ignore-environment null debug default-signal "
                 "ignore-signal block-signal list-signal-handling"),
    "nice": spec("n", "", "adjustment", "", numeric=True),
    "nohup": spec(),
    "timeout": spec("sk", "v", "signal kill-after", "preserve-status foreground verbose"),
    "sudo": spec("ugpCDrtTURc", "AbEeHiKklnPSsVvB", "user group prompt close-from chdir host role type "
                  "command-timeout other-user chroot login-class", "askpass background preserve-env edit "
                  "set-home login remove-timestamp reset-timestamp list non-interactive preserve-groups "
                  "stdin shell version validate bell", optional_short="h"),
    "doas": spec("uC", "nsL"),
    "xargs": spec("adEILnPs", "0oprtx", "arg-file delimiter max-args max-procs max-chars process-slot-var",
                   "null open-tty interactive no-run-if-empty verbose exit show-limits replace eof max-lines",
                   optional_short="eil"),
    "command": spec("", "pvV"),
    "exec": spec("a", "cl"),
    "builtin": spec(),
    "stdbuf": spec("ioe", "", "input output error"),
    "ionice": spec("cnpPu", "t", "class classdata pid pgid uid", "ignore"),
    "chroot": spec("", "", "userspec groups", "skip-chdir"),
    "setsid": spec("", "cfw", "", "ctty fork wait"),
    "time": spec("fo", "apqvV", "format output", "append portability verbose quiet"),
    "watch": spec("nq", "bcdegprtwx", "interval equexit", "beep color no-color differences errexit chgexit "
                   "no-title precise no-rerun no-wrap exec no-linewrap"),
    "flock": spec("wEc", "sxeunoF", "timeout wait conflict-exit-code command",
                   "shared exclusive nonblock nb unlock close no-fork verbose"),
    "unbuffer": spec("", "p"),
    "script": spec("cEIOBmTo", "aefq", "command echo log-in log-out log-io logging-format log-timing "
                    "output-limit", "append return flush force quiet timing", optional_short="t"),
    "su": spec("cgGsw", "lmpP", "command session-command group supp-group shell whitelist-environment",
                "login preserve-environment pty"),
    "ssh": spec("BbcDEeFIiJLlmOopQRSWw", "46AaCfGgKkMNnqsTtVvXxYy"),
    "taskset": spec("", "apcv", "", "all-tasks pid cpu-list verbose"),
    "strace": spec("abeEIoOpPsSuUX", "cCdDfFhikqrtTvVwxyzZn"),
    "ltrace": spec("aAeEIlLnopsSuX", "bCfhiirStTV"),
    "busybox": spec(),
    "toybox": spec(),
    "eatmydata": spec(),
    "nocache": spec(),
    "catchsegv": spec(),
    "linux32": spec(),
    "linux64": spec(),
    "fakeroot": spec("lsi", "uh", "lib faked", "unknown-is-real"),
    "proxychains": spec("f", "q"),
    "proxychains4": spec("f", "q"),
    "gosu": spec(),
    "su-exec": spec(),
    "sshpass": spec("pfdP", "ev"),
    "logsave": spec("", "av"),
    "valgrind": spec("", "qv"),
    "ssh-agent": spec("aEPt", "cDdks"),
    "dbus-run-session": spec("", "", "config-file dbus-daemon", ""),
    "dumb-init": spec("r", "cv", "rewrite", "single-child verbose"),
    "caffeinate": spec("t", "dimsu"),
    "chrt": spec("T", "bdfiomprRaev", "sched-runtime sched-period sched-deadline",
                  "batch deadline fifo idle other rr reset-on-fork all-tasks max pid verbose"),
    "prlimit": spec("p", "", "pid", "as core cpu data fsize locks memlock msgqueue nice nofile nproc rss "
                     "rtprio rttime sigpending stack"),
    "setpriv": spec("", "dhV", "ruid euid rgid egid reuid regid groups inh-caps ambient-caps bounding-set "
                     "securebits pdeathsig selinux-label apparmor-profile landlock-access landlock-rule "
                     "seccomp-filter ptracer", "dump nnp no-new-privs clear-groups keep-groups init-groups "
                     "reset-env help version"),
    "faketime": spec("p", "mf", "date-prog", "exclude-monotonic"),
}
_OPERANDS = {"timeout": 1, "chroot": 1, "flock": 1, "taskset": 1, "chrt": 1, "gosu": 1, "su-exec": 1, "logsave": 1,
             "faketime": 1}
_ASSIGNMENTS = frozenset({"env", "sudo"})
_NO_COMMAND = {"command": {"-v", "-V"}, "sudo": {"-e", "--edit", "-l", "--list", "-v", "--validate", "-k", "-K",
                                                "-V", "--version"},
               "ionice": {"-p", "-P", "-u", "--pid", "--pgid", "--uid"}, "taskset": {"-p", "--pid"},
               "prlimit": {"-p", "--pid"}, "ssh": {"-N", "-s", "-O", "-G", "-Q", "-V"},
               "setpriv": {"-d", "--dump", "-h", "--help", "-V", "--version"}}
_STDIN_WHEN_EMPTY = frozenset({"sudo", "doas", "chroot", "su", "script", "ssh", "exec", "builtin", "command"})
"""With no command these start an interactive shell (commands from stdin)."""


def unwrap(program: str, argv: tuple[Word, ...]) -> Started | None:
    """What wrapper ``program`` starts, or None when ``program`` is not a wrapper."""
    if program in OPAQUE:
        raise Unknown(f"{program} runs commands the line does not show")
    if program in OTHER_SHELLS:
        raise Unknown(f"{program}: a shell whose syntax is not parsed")
    if program in POSIX_SHELLS:
        return _shell(program, argv)
    if program == "find":
        return _find(argv)
    if program == "trap":
        return _trap(argv)
    if program == "hash" and any(w.text.startswith("-") and "p" in w.text for w in argv[1:]):
        raise Unknown("hash -p renames a program")
    started = escapes(program, argv)
    if started is not None:
        return started
    spec = _SPECS.get(program)
    if spec is None:
        return None
    if program in ("exec", "command", "builtin") and len(argv) == 1:
        return []  # only redirections
    opts, i = split_options(argv, spec, program)
    names = {name for name, _ in opts}
    if program == "ssh":
        _ssh_options(opts)
    if names & _NO_COMMAND.get(program, set()):
        return []
    for name, value in opts:
        if (program, name) in (("env", "-S"), ("env", "--split-string"), ("flock", "-c"), ("flock", "--command"),
                               ("script", "-c"), ("script", "--command"), ("su", "-c"), ("su", "--command"),
                               ("su", "--session-command")) and value is not None:
            return [Code(value)]
    i += _OPERANDS.get(program, 0)
    commands: Started = []
    if program in _ASSIGNMENTS:
        while i < len(argv) and re.match(r"[A-Za-z_]\w*=", argv[i].text):
            command = command_of(argv[i])  # env PAGER='…' man ls
            commands += [Code(command)] if command is not None else []
            i += 1
    rest = argv[i:]
    return commands + _started(program, names, rest)


def _started(program: str, names: set[str], rest: tuple[Word, ...]) -> Started:
    if program == "xargs":
        return [Run(rest or (Word("echo"),), extra_args=True)]
    if program == "ssh":
        if len(rest) < 2:
            raise Unknown("ssh without a remote command reads commands from stdin")
        return [_joined(rest[1:])]
    if program in ("su", "script") or (not rest and program in _STDIN_WHEN_EMPTY):
        raise Unknown(f"{program} starts a shell that reads commands from stdin")
    if program in ("busybox", "toybox") and rest and rest[0].text.startswith("-"):
        return []
    if program == "watch" and "-x" not in names and "--exec" not in names and rest:
        return [_joined(rest)]
    if program == "flock" and rest and rest[0].text in ("-c", "--command"):
        if len(rest) < 2:
            return []
        return [Code(rest[1])]  # flock FILE -c CMD: util-linux looks for -c after the file
    if program == "flock" and not rest:
        return []
    return [Run(rest)] if rest else []


def _trap(argv: tuple[Word, ...]) -> Started:
    """``trap [--] ACTION SIGNAL…`` runs ACTION later: judge it now."""
    args = argv[1:]
    if args and args[0].text == "--":
        args = args[1:]
    if len(args) < 2 or args[0].text.startswith("-"):
        return []  # trap -p, trap -l, trap SIGNAL (reset)
    return [Code(args[0])]


def _ssh_options(opts: list[tuple[str, Word | None]]) -> None:
    """ssh runs local commands from options (ProxyCommand, LocalCommand, Match exec) and
    from any config file it is pointed at: the line does not show them."""
    for name, value in opts:
        if name == "-F" or (name == "-o" and value is not None and re.search(r"command|match", value.text, re.I)):
            raise Unknown("ssh runs a local command from its options")


def _joined(words: tuple[Word, ...]) -> Code:
    """Arguments a program joins with spaces and hands to ``sh -c`` (ssh, watch)."""
    return Code(Word(" ".join(w.text for w in words), dynamic=any(w.dynamic for w in words)))


_SHELL_LONG = frozenset({"norc", "noprofile", "login", "posix", "restricted", "verbose", "noediting", "debugger",
                         "dump-strings", "dump-po-strings", "pretty-print", "help", "version", "protected"})


def _shell(program: str, argv: tuple[Word, ...]) -> Started:
    """``sh -c STRING`` parses STRING; a shell without ``-c`` and without a script reads stdin."""
    command = stdin = False
    i = 1
    while i < len(argv):
        w = argv[i]
        if not w.static:
            raise Unknown(f"{program}: an argument that is not static ({w.text!r})")
        t = w.text
        if t in ("--", "-"):
            i += t == "--"
            break
        if t.startswith("--"):
            name = t[2:]
            if name in ("rcfile", "init-file"):
                i += 2
                continue
            if name not in _SHELL_LONG:
                raise Unknown(f"{program}: option {t} not understood")
        elif t[:1] in "-+" and len(t) > 1:
            command |= "c" in t[1:]
            stdin |= "s" in t[1:]
            i += sum(1 for letter in t[1:] if letter in "oO")  # -o NAME, -O SHOPT
        else:
            break
        i += 1
    if command:
        if i >= len(argv):
            return []
        return [Code(argv[i])]
    if stdin or i >= len(argv) or argv[i].text in STDIN_PATHS:
        raise Unknown(f"{program} reads commands from stdin")
    return []


_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


def _find(argv: tuple[Word, ...]) -> Started:
    """``find -exec CMD … ;|+`` runs CMD; ``find -delete`` deletes what it finds."""
    started: Started = []
    starts: list[Word] = []
    i = 1
    while i < len(argv) and not argv[i].text.startswith("-") and argv[i].text not in ("(", "!", ","):
        starts.append(argv[i])
        i += 1
    while i < len(argv):
        t = argv[i].text
        i += 1
        if t in _FIND_EXEC:
            j = i
            while j < len(argv) and argv[j].text != ";" and not (argv[j].text == "+" and argv[j - 1].text == "{}"):
                j += 1
            if j >= len(argv):
                raise Unknown("find -exec without its terminator")
            started.append(Run(argv[i:j]))  # {} is a found path: never an option
            i = j + 1
        elif t == "-delete":
            delete = (Word("rm"), Word("-r"), Word("-f"), Word("--"), *(starts or [Word(".")]))
            started.append(Run(delete, kind=DELETE))
    return started
