"""Quoted strings and expansions inside a shell word: their values, and what cannot be known.

The quoting half of :class:`policies.shell.lexer.Lexer`, sans-IO: single, double and
``$'…'`` quotes are decoded; a ``$`` or backquote expansion keeps its spelling and makes
the word dynamic; a command substitution's body is handed to ``on_subst``. What cannot be
resolved before the line runs raises :class:`Unknown`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SPECIAL_PARAMS = frozenset("@*#?-$!0123456789")
_C_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
              "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


class Unknown(Exception):
    """The line holds something that cannot be resolved statically (the message says what)."""


class QuoteReader:
    """Reads one quoted string or expansion at ``self.pos`` and leaves ``self.pos`` after it."""

    text: str
    pos: int
    on_subst: Callable[[str], None]

    def _single(self) -> str:
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise Unknown("unterminated single quote")
        part = self.text[self.pos + 1:end]
        self.pos = end + 1
        return part

    def _double(self) -> tuple[str, bool]:
        """Body of a double-quoted string; ``self.pos`` is just after the opening quote."""
        text, out, dynamic = self.text, list[str](), False
        while self.pos < len(text):
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return "".join(out), dynamic
            if c == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                if nxt != "\n":
                    out.append(nxt if nxt in '$`"\\' else "\\" + nxt)
                self.pos += 2
            elif c in "$`":
                spelled, dyn = self._dollar() if c == "$" else self._backquote()
                out.append(spelled)
                dynamic |= dyn
            else:
                out.append(c)
                self.pos += 1
        raise Unknown("unterminated double quote")

    def _ansi_c(self) -> str:
        """``$'…'`` with its escapes decoded (``$'\\x72m'`` is ``rm``)."""
        text, out = self.text, list[str]()
        self.pos += 1
        while self.pos < len(text):
            c = text[self.pos]
            if c == "'":
                self.pos += 1
                return "".join(out)
            if c != "\\":
                out.append(c)
                self.pos += 1
                continue
            m = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|.)",
                           re.DOTALL).match(text, self.pos)
            if m is None:
                break
            esc = m.group(1)
            if esc[0] in "xuU" and len(esc) > 1:
                out.append(chr(int(esc[1:], 16)))
            elif esc[0] in "01234567":
                out.append(chr(int(esc, 8) & 0xFF))
            elif esc in _C_ESCAPES:
                out.append(_C_ESCAPES[esc])
            elif esc == "c":
                raise Unknown("control-character escape in $'…'")
            else:
                out.append("\\" + esc)
            self.pos = m.end()
        raise Unknown("unterminated $'…'")

    def _dollar(self) -> tuple[str, bool]:
        """A ``$`` expansion: its spelling, and whether it is dynamic (a bare ``$`` is not)."""
        text, start = self.text, self.pos
        nxt = text[start + 1:start + 2]
        if text.startswith("$((", start):
            raise Unknown("arithmetic expansion")
        if nxt == "(":
            self.pos = start + 1
            body = self._balanced_parens()
            self.on_subst(body[1:-1])
        elif nxt == "[":
            raise Unknown("arithmetic expansion")
        elif nxt == "{":
            self.pos = start + 1
            body = self._balanced("{", "}")
            if "$(" in body or "`" in body or "<(" in body or ">(" in body:
                raise Unknown("command substitution inside ${…}")
        elif nxt and (nxt in _SPECIAL_PARAMS or nxt == "_" or nxt.isalpha()):
            m = re.compile(r"[A-Za-z_]\w*").match(text, start + 1)
            self.pos = m.end() if m else start + 2
        else:
            self.pos = start + 1
            return "$", False
        return text[start:self.pos], True

    def _backquote(self) -> tuple[str, bool]:
        text, out = self.text, list[str]()
        i = self.pos + 1
        while i < len(text) and text[i] != "`":
            if text[i] == "\\" and i + 1 < len(text):
                out.append(text[i + 1] if text[i + 1] in "$`\\" else text[i:i + 2])
                i += 2
            else:
                out.append(text[i])
                i += 1
        if i >= len(text):
            raise Unknown("unterminated backquote")
        spelled = text[self.pos:i + 1]
        self.pos = i + 1
        self.on_subst("".join(out))
        return spelled, True

    def _balanced_parens(self) -> str:
        return self._balanced("(", ")")

    def _balanced(self, opening: str, closing: str) -> str:
        """From ``self.pos`` (at ``opening``) to its matching ``closing``, skipping quotes."""
        text, depth, i = self.text, 0, self.pos
        while i < len(text):
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c in "'`":
                end = text.find(c, i + 1)
                if end < 0:
                    raise Unknown("unterminated quote")
                i = end + 1
                continue
            if c == '"':
                saved = self.pos
                self.pos = i + 1
                self._double()
                i, self.pos = self.pos, saved
                continue
            if c == opening:
                depth += 1
            elif c == closing:
                depth -= 1
                if depth == 0:
                    body = text[self.pos:i + 1]
                    self.pos = i + 1
                    return body
            i += 1
        raise Unknown(f"unbalanced {opening}{closing}")
