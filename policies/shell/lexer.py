"""POSIX/bash tokenizer: words with quoting resolved, operators, here-documents.

Sans-IO and conservative: anything whose value the bastion cannot know before the line
runs raises :class:`Unknown` (arithmetic and process substitution, ``${…}`` holding a
command substitution, unterminated quotes) or marks the word ``dynamic``. Command
substitutions (``$(…)`` and backquotes) are handed to ``on_subst`` so the parser judges
the commands inside them too. Quoted strings and expansions are read by
:class:`policies.shell.quoting.QuoteReader`, which this lexer extends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from policies.shell.model import Word
from policies.shell.quoting import QuoteReader, Unknown

OPERATORS = (";;&", "&>>", "<<<", "<<-", ";;", ";&", "&&", "||", "|&", "&>", "<<", "<>", "<&", ">&", ">>", ">|",
             "<", ">", ";", "&", "|", "(", ")")
REDIRECTIONS = frozenset({"<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<", "<<-", "<<<"})
_META = frozenset(" \t\n;&|()<>")
_FD_PREFIX = re.compile(r"(\d+|\{[A-Za-z_]\w*\})(?=[<>])")
_ASSIGN = re.compile(r"[A-Za-z_]\w*(\[[^\]]*\])?\+?=")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """``word``, ``op``, ``newline`` or ``eof``."""
    op: str = ""
    word: Word | None = None
    assignment: bool = False
    """An unquoted ``NAME=…`` (or ``NAME+=``, ``NAME[i]=``) word."""


class Lexer(QuoteReader):
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
