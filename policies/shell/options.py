"""Command-line options: getopt-style splitting for wrappers, and per-program option names.

Wrappers (``sudo``, ``timeout``…) must be split exactly, or a wrapper's option value would
be taken for the wrapped program: an option the table does not know makes the line
unknown. Judged programs (``rm``, ``chmod``…) get their options normalised so a rule can
say ``recursive`` for ``-r``, ``-R``, ``-rf``, ``-fr``, ``--recursive`` or ``--rec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.shell.lexer import Unknown
from policies.shell.model import SimpleCommand, Word


@dataclass(frozen=True)
class Spec:
    """How a program's options are spelled (getopt short letters, getopt_long names)."""

    short_arg: str = ""
    short_flag: str = ""
    long_arg: frozenset[str] = frozenset()
    long_flag: frozenset[str] = frozenset()
    optional_short: str = ""
    """Letters whose argument is only ever attached (``xargs -i[R]``)."""
    numeric: bool = False
    """``-N`` is an option (``nice -5``)."""


def spec(short_arg: str = "", short_flag: str = "", long_arg: str = "", long_flag: str = "",
          optional_short: str = "", numeric: bool = False) -> Spec:
    return Spec(short_arg, short_flag, frozenset(long_arg.split()), frozenset(long_flag.split()),
                optional_short, numeric)


def _long_name(name: str, spec: Spec, program: str) -> tuple[str, bool]:
    """Resolve a (possibly abbreviated) long option to (name, takes_argument)."""
    names = spec.long_arg | spec.long_flag
    if name in names:
        return name, name in spec.long_arg
    matches = [n for n in names if n.startswith(name)]
    if len(matches) != 1:
        raise Unknown(f"{program}: option --{name} not understood")
    return matches[0], matches[0] in spec.long_arg


def split_options(argv: tuple[Word, ...], spec: Spec, program: str,
                  start: int = 1) -> tuple[list[tuple[str, Word | None]], int]:
    """Options of a wrapper up to its first operand (``--`` ends them; no permutation).

    Returns ``[(option, value)]`` (``-u``, ``--user``) and the index of the first operand.
    """
    opts: list[tuple[str, Word | None]] = []
    i = start
    while i < len(argv):
        w = argv[i]
        if not w.static:
            raise Unknown(f"{program}: an option that is not static ({w.text!r})")
        t = w.text
        if t == "--":
            return opts, i + 1
        if not t.startswith("-") or t == "-":
            return opts, i
        i += 1
        if t.startswith("--"):
            name, _, value = t[2:].partition("=")
            name, takes = _long_name(name, spec, program)
            val: Word | None = Word(value) if "=" in t else None
            if takes and val is None:
                if i >= len(argv):
                    raise Unknown(f"{program}: --{name} needs a value")
                val, i = argv[i], i + 1
            opts.append((f"--{name}", val))
            continue
        if spec.numeric and t[1:].isdigit():
            opts.append(("-n", Word(t[1:])))
            continue
        i = _short_cluster(argv, i, t, spec, program, opts)
    return opts, i


def _short_cluster(argv: tuple[Word, ...], i: int, t: str, spec: Spec, program: str,
                   opts: list[tuple[str, Word | None]]) -> int:
    for j, letter in enumerate(t[1:], start=1):
        if letter in spec.short_arg:
            rest = t[j + 1:]
            if rest:
                opts.append((f"-{letter}", Word(rest)))
            elif i < len(argv):
                opts.append((f"-{letter}", argv[i]))
                i += 1
            else:
                raise Unknown(f"{program}: -{letter} needs a value")
            return i
        if letter in spec.optional_short:
            opts.append((f"-{letter}", Word(t[j + 1:]) if t[j + 1:] else None))
            return i
        if letter not in spec.short_flag:
            raise Unknown(f"{program}: option -{letter} not understood")
        opts.append((f"-{letter}", None))
    return i


# -- option names of judged programs ------------------------------------------------

@dataclass(frozen=True)
class Names:
    """Canonical names for a program's options, and which short letters take a value."""

    short: dict[str, str] = field(default_factory=dict)
    long: dict[str, str] = field(default_factory=dict)
    short_arg: str = ""


_RM = Names({"r": "recursive", "R": "recursive", "f": "force", "i": "interactive", "I": "interactive",
             "d": "dir", "v": "verbose"},
            {"recursive": "recursive", "force": "force", "interactive": "interactive", "dir": "dir",
             "verbose": "verbose", "one-file-system": "one-file-system", "no-preserve-root": "no-preserve-root",
             "preserve-root": "preserve-root"})
_RECURSIVE_R = Names({"R": "recursive", "v": "verbose", "f": "force", "c": "changes", "h": "no-dereference"},
                     {"recursive": "recursive", "verbose": "verbose", "silent": "force", "quiet": "force",
                      "changes": "changes", "no-dereference": "no-dereference", "reference": "reference"})
PROGRAM_OPTIONS: dict[str, Names] = {
    "rm": _RM,
    "chmod": _RECURSIVE_R, "chown": _RECURSIVE_R, "chgrp": _RECURSIVE_R,
    "cp": Names({"r": "recursive", "R": "recursive", "a": "recursive", "f": "force", "i": "interactive",
                 "l": "link", "s": "symbolic-link", "u": "update", "t": "target-directory"},
                {"recursive": "recursive", "archive": "recursive", "force": "force", "link": "link",
                 "target-directory": "target-directory", "remove-destination": "remove-destination"}, "tS"),
    "mv": Names({"f": "force", "i": "interactive", "t": "target-directory", "u": "update"},
                {"force": "force", "target-directory": "target-directory"}, "tS"),
    "rsync": Names({"r": "recursive", "a": "recursive", "e": "rsh"},
                   {"recursive": "recursive", "archive": "recursive", "delete": "delete",
                    "delete-before": "delete", "delete-during": "delete", "delete-after": "delete",
                    "delete-delay": "delete", "remove-source-files": "remove-source-files", "rsh": "rsh"}, "eBfT"),
    "scp": Names({"r": "recursive"}, {}, "cFiJlmoPSDX"),
    "shred": Names({"u": "remove", "z": "zero", "f": "force"}, {"remove": "remove", "zero": "zero"}, "ns"),
    "rmdir": Names({"p": "parents"}, {"parents": "parents"}),
    "mkdir": Names({"p": "parents"}, {"parents": "parents"}, "m"),
}


def option_names(cmd: SimpleCommand) -> tuple[frozenset[str], bool]:
    """Options a command was given: raw spellings (``-r``, ``--recursive``) and canonical
    names from the program's table (``recursive``), plus whether the set is uncertain
    (an argument not known statically could be an option; ``xargs`` appends arguments).

    GNU permutation applies: an option after an operand still counts, until ``--``.
    """
    table = PROGRAM_OPTIONS.get(cmd.program, Names())
    names: set[str] = set()
    uncertain = cmd.extra_args
    args = cmd.argv[1:]
    i = 0
    while i < len(args):
        w, i = args[i], i + 1
        if w.dynamic or (w.glob and not w.text[:1].isalnum() and w.text[:1] not in "/.~_"):
            uncertain = True  # "$X", `*`, -[r]f: could become -r at run time
            continue
        t = w.text
        if t == "--":
            break
        if not t.startswith("-") or t == "-":
            continue
        if t.startswith("--"):
            name = t[2:].partition("=")[0]
            names.add(f"--{name}")
            full = [n for n in table.long if n.startswith(name)] if name not in table.long else [name]
            if len(full) == 1:
                names.update((f"--{full[0]}", table.long[full[0]]))
            continue
        for j, letter in enumerate(t[1:], start=1):
            names.add(f"-{letter}")
            if letter in table.short:
                names.add(table.short[letter])
            if letter in table.short_arg:
                i += 0 if t[j + 1:] else 1
                break
    return frozenset(names), uncertain
