"""Interpreters given code in the line (``python3 -c``, ``perl -e``, an awk program that
can start commands): kind ``inline_code``. An interpreter with neither inline code nor a script file reads its code
from stdin, which the line does not show: ``Unknown``.
"""

from __future__ import annotations

import re

from policies.shell.lexer import Unknown
from policies.shell.model import Word

STDIN_PATHS = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})

_INLINE: dict[str, tuple[str, str, frozenset[str]]] = {
    # family: (letters that introduce inline code, letters taking a value, long options with inline code)
    "python": ("c", "WXQm", frozenset()),
    "perl": ("eE", "IMmlix0dDCV", frozenset()),
    "ruby": ("e", "IrEKTWxC0l", frozenset()),
    "node": ("ep", "r", frozenset({"--eval", "--print"})),
    "php": ("rBRE", "cdzftS", frozenset()),
    "lua": ("e", "l", frozenset()),
    "r": ("e", "", frozenset({"--expr"})),
    "julia": ("eE", "", frozenset({"--eval", "--print"})),
    "osascript": ("e", "l", frozenset()),
    "tcl": ("", "", frozenset()),
    "awk": ("e", "fFvEilW", frozenset({"--source"})),
}
_FAMILY = [(re.compile(p), f) for p, f in (
    (r"(python|pypy)[0-9.]*", "python"), (r"perl[0-9.]*", "perl"), (r"ruby[0-9.]*", "ruby"),
    (r"(node|nodejs|deno|bun)", "node"), (r"php[0-9.]*(-cli)?", "php"), (r"(lua|luajit)[0-9.]*", "lua"),
    (r"Rscript", "r"), (r"julia", "julia"), (r"osascript", "osascript"), (r"(tclsh|wish|jimsh)[0-9.]*", "tcl"),
    (r"[gmn]?awk|busybox-awk", "awk"))]


def interpreter(program: str) -> str | None:
    return next((family for pattern, family in _FAMILY if pattern.fullmatch(program)), None)


def inline_code(family: str, argv: tuple[Word, ...]) -> bool:
    """True when an interpreter is given code in the line; raises ``Unknown`` when it reads stdin."""
    inline, with_value, long_inline = _INLINE[family]
    operand: Word | None = None
    progfile = guessed = False
    i = 1
    while i < len(argv):
        w = argv[i]
        t = w.text
        i += 1
        if not w.static or t in long_inline or t.split("=")[0] in long_inline:
            return True
        if t == "--" or not t.startswith("-") or t == "-":
            operand = argv[i] if t == "--" and i < len(argv) else w
            break
        if t.startswith("--"):
            progfile |= t.split("=")[0] in ("--file", "--exec")
            guessed |= "=" not in t  # an unknown long option may take the next word as its value
            continue
        for j, letter in enumerate(t[1:], start=1):
            if letter in inline:
                return True
            if family == "perl" and letter in "l0":
                continue  # -l[octal], -0[digits]: only digits attach
            if letter in with_value:
                progfile |= family == "awk" and letter in "fE" or family == "python" and letter == "m"
                i += 0 if t[j + 1:] else 1
                break
    if guessed and any(_has_inline(w.text, inline, long_inline) for w in argv[i:]):
        return True
    if family == "awk":
        return not progfile and (operand is None or not operand.static or _awk_runs_commands(operand.text))
    if progfile:
        return False
    if operand is None or operand.text in STDIN_PATHS:
        raise Unknown(f"{argv[0].text} reads code from stdin")
    return False


_AWK_EXEC = re.compile(r"system|\||@")
"""awk starts programs only through system(), pipes (``print | "cmd"``, ``"cmd" | getline``)
and gawk's indirect calls and extensions (``@f()``, ``@load``); other awk is a text filter."""


def _awk_runs_commands(program: str) -> bool:
    return bool(_AWK_EXEC.search(program))


def _has_inline(t: str, inline: str, long_inline: frozenset[str]) -> bool:
    if t.split("=")[0] in long_inline:
        return True
    return t.startswith("-") and not t.startswith("--") and any(letter in inline for letter in t[1:])
