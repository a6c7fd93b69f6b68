"""Masking that respects shell syntax: secrets are hidden, commands stay visible (pure).

A masker run over a whole exec line can match across ``;``, ``&&``, ``|`` or a newline
(``echo -----BEGIN … KEY-----; touch ~/x; echo -----END … KEY-----`` would hide the
``touch``). :func:`redact_command` cuts the line at its shell syntax — control and
redirection operators, newlines, subshell and substitution brackets — and applies the
masker to each segment between them on its own. Quoted text is one segment even when it
holds those characters, and a here-document body is one segment (a key pasted into
``cat > f <<EOF`` is masked as a whole block).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SYNTAX = frozenset(";&|<>()\n")
_HEREDOC = re.compile(r"<<-?[ \t]*(?:'([^']*)'|\"([^\"]*)\"|\\?([^\s;&|<>()]+))")


def redact_command(line: str, mask: Callable[[str], str]) -> str:
    """``line`` with ``mask`` applied within each segment between shell syntax, never across it."""
    out: list[str] = []
    for text, is_syntax in _segments(line):
        out.append(text if is_syntax or not text.strip() else mask(text))
    return "".join(out)


def _segments(line: str) -> list[tuple[str, bool]]:
    """The line as (text, is_syntax) pieces whose concatenation is the line."""
    pieces: list[tuple[str, bool]] = []
    stack: list[str] = []  # open '"', '$(', '(' and '`' contexts
    heredocs: list[tuple[str, bool]] = []
    start = i = 0
    n = len(line)

    def cut(end: int, syntax_end: int) -> None:
        nonlocal start
        if end > start:
            pieces.append((line[start:end], False))
        if syntax_end > end:
            pieces.append((line[end:syntax_end], True))
        start = syntax_end

    while i < n:
        c, top = line[i], (stack[-1] if stack else "")
        if top == '"':
            if c == "\\":
                i += 2
            elif c == '"':
                stack.pop()
                i += 1
            elif line.startswith("$(", i) or c == "`":
                width = 1 if c == "`" else 2
                stack.append(line[i:i + width])
                cut(i, i + width)
                i += width
            else:
                i += 1
            continue
        if c == "\\":
            i += 2
        elif c == "'" or line.startswith("$'", i):
            i = _after_single(line, i + (c == "$"))
        elif c == '"':
            stack.append('"')
            i += 1
        elif c == "`":
            if top == "`":
                stack.pop()
            else:
                stack.append("`")
            cut(i, i + 1)
            i += 1
        elif line.startswith("$(", i):
            stack.append("$(")
            cut(i, i + 2)
            i += 2
        elif c in _SYNTAX:
            if c == "(":
                stack.append("(")
            elif c == ")" and top in ("(", "$("):
                stack.pop()
            if c == "<" and (m := _HEREDOC.match(line, i)) and not line.startswith("<<<", i):
                delimiter = next(g for g in m.groups() if g is not None)
                heredocs.append((delimiter, m.group(0).startswith("<<-")))
            j = i
            while j < n and line[j] in _SYNTAX and line[j] not in "()" and (line[j] != "\n" or j == i):
                j += 1
            j = max(j, i + 1)
            cut(i, j)
            if "\n" in line[i:j] and heredocs:
                j = _heredoc_bodies(line, j, heredocs, pieces)
                start = j
            i = j
        else:
            i += 1
    cut(n, n)
    return pieces


def _after_single(line: str, i: int) -> int:
    """Index after the single-quoted string opening at ``i`` (``$'…'`` honours ``\\'``)."""
    ansi = i > 0 and line[i - 1] == "$"
    j = i + 1
    while j < len(line):
        if ansi and line[j] == "\\":
            j += 2
            continue
        if line[j] == "'":
            return j + 1
        j += 1
    return len(line)


def _heredoc_bodies(line: str, i: int, heredocs: list[tuple[str, bool]], pieces: list[tuple[str, bool]]) -> int:
    """Each pending here-document body is one segment; its delimiter line is syntax."""
    for delimiter, strip_tabs in heredocs:
        body_start = i
        while i < len(line):
            end = line.find("\n", i)
            end = len(line) if end < 0 else end
            text = line[i:end]
            if (text.lstrip("\t") if strip_tabs else text) == delimiter:
                if i > body_start:
                    pieces.append((line[body_start:i], False))
                pieces.append((line[i:min(end + 1, len(line))], True))
                i = min(end + 1, len(line))
                break
            i = end + 1
        else:
            if len(line) > body_start:
                pieces.append((line[body_start:], False))
            i = len(line)
    heredocs.clear()
    return i
