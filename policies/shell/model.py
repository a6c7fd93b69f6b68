"""What the shell parser yields: words, simple commands and the parse of one line."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

EXEC, INLINE_CODE, DELETE = "exec", "inline_code", "delete"
"""Command kinds: a program run with arguments; an interpreter given code inline
(``python3 -c``, ``perl -e``, ``awk '…'``); a deletion done by another program
(``find … -delete``, modelled as ``rm -r -f -- <paths>``)."""


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word with its quoting removed.

    ``dynamic``: the value depends on run-time state (parameter, command or brace
    expansion), so ``text`` is only its spelling. ``glob``: unquoted ``*``, ``?`` or ``[``
    that may expand to file names.
    """

    text: str
    dynamic: bool = False
    glob: bool = False
    quoted: bool = False

    @property
    def static(self) -> bool:
        return not (self.dynamic or self.glob)


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """One program the line runs, with its arguments as the program receives them."""

    argv: tuple[Word, ...]
    kind: str = EXEC
    via: tuple[str, ...] = ()
    """Wrapper programs it runs under, outermost first (``sudo``, ``bash``, ``xargs``…)."""
    extra_args: bool = False
    """More arguments are appended at run time (``xargs``): their values are unknown."""

    @property
    def program(self) -> str:
        """The basename of ``argv[0]`` (``/bin/rm`` and ``\\rm`` are ``rm``)."""
        return posixpath.basename(self.argv[0].text.rstrip("/")) if self.argv else ""

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(w.text for w in self.argv[1:])


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """Every simple command of a line; ``unknown`` holds why it cannot be judged statically.

    When ``unknown`` is non-empty the list of commands is incomplete (parsing stopped at
    the first construct it cannot resolve) and rules that name programs fail closed.
    """

    commands: tuple[SimpleCommand, ...] = ()
    unknown: tuple[str, ...] = field(default=())

    @property
    def is_unknown(self) -> bool:
        return bool(self.unknown)


@dataclass(frozen=True, slots=True)
class Run:
    """A program another one starts with this argument vector (``nice rm -rf D``)."""

    argv: tuple[Word, ...]
    extra_args: bool = False
    kind: str = EXEC


@dataclass(frozen=True, slots=True)
class Code:
    """A shell string another program runs (``sh -c``, ``ssh host cmd``, ``man -P``)."""

    word: Word


Started = list[Run | Code]
