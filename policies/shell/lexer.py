"""POSIX/bash tokenizer: words with quoting resolved, operators, here-documents.

Sans-IO and conservative: anything whose value the bastion cannot know before the line
runs raises :class:`Unknown` (arithmetic and process substitution, ``${…}`` holding a
command substitution, unterminated quotes) or marks the word ``dynamic``. Command
substitutions (``$(…)`` and backquotes) are handed to ``on_subst`` so the parser judges
the commands inside them too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from policies.shell.model import Word

OPERATORS = (";;&", "&>>", "<<<", "<<-", ";;", ";&", "&&", "||", "|&", "&>", "<<", "<>", "<&", ">&", ">>", ">|",
             "<", ">", ";", "&", "|", "(", ")")
REDIRECTIONS = frozenset({"<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<", "<<-", "<<<"})
_META = frozenset(" \t\n;&|()<>")
_FD_PREFIX = re.compile(r"(\d+|\{[A-Za-z_]\w*\})(?=[<>])")
_ASSIGN = re.compile(r"[A-Za-z_]\w*(\[[^\]]*\])?\+?=")
_SPECIAL_PARAMS = frozenset("@*#?-$!0123456789")
_C_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
              "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


class Unknown(Exception):
    """The line holds something that cannot be resolved statically (the message says what)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """``word``, ``op``, ``newline`` or ``eof``."""
    op: str = ""
    word: Word | None = None
    assignment: bool = False
    """An unquoted ``NAME=…`` (or ``NAME+=``, ``NAME[i]=``) word."""


class Lexer:
    def __init__(self, text: str, on_subst: Callable[[str], None]) -> None:
        self.text, self.pos, self.on_subst = text, 0, on_subst
        self._heredocs: list[tuple[str, bool, bool]] = []

    def add_heredoc(self, delimiter: Word, strip_tabs: bool) -> None:
        """Register a ``<<`` whose body starts after the next newline."""
        self._heredocs.append((delimiter.text, strip_tabs, not delimiter.quoted))

    def next(self) -> Token:
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c in " \t":
                self.pos += 1
            elif text.startswith("\\\n", self.pos):
                self.pos += 2
            elif c == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                break
        if self.pos >= len(text):
            return Token("eof")
        c = text[self.pos]
        if c == "\n":
            self.pos += 1
            self._read_heredocs()
            return Token("newline")
        if c in "<>" and text.startswith("(", self.pos + 1):
            raise Unknown("process substitution")
        fd = _FD_PREFIX.match(text, self.pos)
        if fd:
            self.pos = fd.end()
            c = text[self.pos]
        if c in _META:
            for op in OPERATORS:
                if text.startswith(op, self.pos):
                    self.pos += len(op)
                    return Token("op", op)
        return self._word()

    # -- words ---------------------------------------------------------------------

    def _word(self) -> Token:
        text, out = self.text, list[str]()
        dynamic = glob = quoted = False
        brace = comma = bracket = False
        assign_ok, assignment = True, False
        while self.pos < len(text):
            c = text[self.pos]
            if c in _META:
                if c == "(" and assignment and "".join(out).endswith("="):
                    out.append(self._balanced_parens())
                    dynamic = True
                    continue
                break
            if c == "\\":
                if text.startswith("\n", self.pos + 1):
                    self.pos += 2
                    continue
                if self.pos + 1 < len(text):
                    out.append(text[self.pos + 1])
                quoted, assign_ok = True, False
                self.pos += 2
            elif c == "'":
                out.append(self._single())
                quoted, assign_ok = True, False
            elif c == '"':
                self.pos += 1
                part, dyn = self._double()
                out.append(part)
                dynamic |= dyn
                quoted, assign_ok = True, False
            elif c == "$" and text.startswith("'", self.pos + 1):
                self.pos += 1
                out.append(self._ansi_c())
                quoted, assign_ok = True, False
            elif c == "$" and text.startswith('"', self.pos + 1):
                self.pos += 2
                part, dyn = self._double()
                out.append(part)
                dynamic |= dyn
                quoted, assign_ok = True, False
            elif c == "$" or c == "`":
                spelled, dyn = self._dollar() if c == "$" else self._backquote()
                out.append(spelled)
                dynamic |= dyn
                assign_ok = False
            else:
                if c in "*?":
                    glob = True
                elif c == "[":
                    bracket = True
                elif c == "]" and bracket:
                    glob = True  # [abc] is a bracket expression; a lone [ (test) is not
                elif c == "{":
                    brace = True
                elif c == "," or (c == "." and text.startswith("..", self.pos)):
                    comma = brace
                elif c == "}" and comma:
                    dynamic = True  # brace expansion: {rm,-rf,D} becomes three words
                elif c == "=" and assign_ok and not assignment:
                    assignment = bool(_ASSIGN.fullmatch("".join(out) + "="))
                out.append(c)
                self.pos += 1
        word = Word("".join(out), dynamic=dynamic, glob=glob, quoted=quoted)
        return Token("word", word=word, assignment=assignment)

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

    # -- here-documents --------------------------------------------------------------

    def _read_heredocs(self) -> None:
        for delimiter, strip_tabs, expands in self._heredocs:
            body: list[str] = []
            while self.pos < len(self.text):
                end = self.text.find("\n", self.pos)
                end = len(self.text) if end < 0 else end
                line = self.text[self.pos:end]
                self.pos = min(end + 1, len(self.text))
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
                body.append(line)
            joined = "\n".join(body)
            if expands and ("$(" in joined or "`" in joined or "$[" in joined):
                raise Unknown("command substitution in a here-document")
        self._heredocs.clear()
