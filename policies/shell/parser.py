"""Shell grammar: every simple command of a line, through lists, pipelines, compound
commands, functions and command substitutions.

The parser tracks just enough grammar to know which words are in command position:
reserved words (``if … fi``, ``while/until … done``, ``for/select NAME in …``,
``case … in PAT) … ;; esac``, ``{ … }``, ``[[ … ]]``, ``!``, ``time``), subshells,
function definitions and assignments. Unbalanced constructs are a parse error, and a
parse error makes the line unknown: bash would refuse (or read) it differently.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.shell.lexer import REDIRECTIONS, Lexer, Token, Unknown
from policies.shell.model import Word
from policies.shell.variables import command_of

_OPENERS = {"if": "if", "while": "loop", "until": "loop", "{": "{", "case": "case", "for": "loop",
            "select": "loop"}
_CLOSERS = {"fi": "if", "done": "loop", "}": "{", "esac": "case"}
_MIDDLES = {"then": "if", "elif": "if", "else": "if", "do": "loop"}
_SEPARATORS = frozenset({";", "&", "&&", "||", "|", "|&"})
_CASE_ENDS = frozenset({";;", ";&", ";;&"})
MAX_DEPTH = 12


class Grammar:
    """Walks one script (or a command substitution's body) and reports simple commands.

    ``emit(words)`` is called with the words of each simple command (assignments and
    redirections removed); ``sub(text)`` parses a nested script (command substitution).
    """

    def __init__(self, text: str, emit: Callable[[tuple[Word, ...]], None], sub: Callable[[str], None]) -> None:
        self.lexer = Lexer(text, sub)
        self.emit = emit
        self.sub = sub
        self.stack: list[str] = []
        self.words: list[Word] = []
        self.state = ""

    def run(self) -> None:
        while True:
            tok = self.lexer.next()
            if tok.kind == "eof":
                self._flush()
                if self.stack or self.state not in ("", "for_in"):
                    raise Unknown(f"syntax error: unexpected end of line (open {self.stack or self.state})")
                return
            self._token(tok)

    def _token(self, tok: Token) -> None:
        if self.state:
            if self._special(tok):
                return
        if tok.kind == "word":
            assert tok.word is not None
            self._word(tok.word, tok.assignment)
        elif tok.kind == "newline":
            self._flush()
        elif tok.op in REDIRECTIONS:
            self._redirection(tok.op)
        else:
            self._operator(tok.op)

    def _word(self, word: Word, assignment: bool) -> None:
        if self.words:
            self.words.append(word)
            return
        if assignment:  # NAME=value before a command (its substitutions were already parsed)
            command = command_of(word)
            if command is not None:
                self.sub(command.text)  # PAGER='…' man ls: the value is a command of the line
            return
        reserved = word.text if not (word.quoted or word.dynamic) else ""
        if reserved in _OPENERS:
            self.stack.append(_OPENERS[reserved])
            self.state = {"for": "for_name", "select": "for_name", "case": "case_word"}.get(reserved, "")
        elif reserved in _MIDDLES or reserved in _CLOSERS:
            want = _MIDDLES.get(reserved) or _CLOSERS[reserved]
            if not self.stack or self.stack[-1] != want:
                raise Unknown(f"syntax error near {reserved!r}")
            if reserved in _CLOSERS:
                self.stack.pop()
        elif reserved in ("!", "time"):
            self.state = "time" if reserved == "time" else ""
        elif reserved == "[[":
            self.state = "cond"
        elif reserved == "function":
            self.state = "func_name"
        elif reserved in ("coproc", "in", "((", "]]"):
            raise Unknown(f"unsupported shell syntax {reserved!r}")
        else:
            self.words.append(word)

    def _special(self, tok: Token) -> bool:
        """Tokens that are not commands in the current state; True when consumed."""
        state, word = self.state, tok.word
        text = word.text if word is not None and not word.quoted else None
        if state == "time":
            self.state = ""
            return text == "-p"
        if state == "for_name":
            if word is None:
                raise Unknown("syntax error after 'for'")
            self.state = "for_in"
            return True
        if state == "for_in":
            if text == "in":
                self.state = "for_words"
                return True
            self.state = ""
            return tok.kind == "newline" or tok.op == ";"
        if state == "for_words":
            if word is not None:
                return True
            self.state = ""
            return tok.kind == "newline" or tok.op == ";"
        if state == "cond":
            if text == "]]":
                self.state = ""
            elif tok.kind == "eof":
                raise Unknown("unterminated [[")
            return True
        if state == "func_name":
            if word is None:
                raise Unknown("syntax error after 'function'")
            self.state = "func_parens"
            return True
        if state == "func_parens":
            self.state = ""
            if tok.op == "(":
                self._expect_close_paren()
                return True
            return tok.kind == "newline"
        return self._special_case(tok, text)

    def _special_case(self, tok: Token, text: str | None) -> bool:
        state = self.state
        if state == "case_word":
            if tok.kind != "word":
                raise Unknown("syntax error after 'case'")
            self.state = "case_in"
            return True
        if state == "case_in":
            if tok.kind == "newline":
                return True
            if text != "in":
                raise Unknown("syntax error: 'case' without 'in'")
            self.state = "pattern"
            return True
        if state == "pattern":
            if tok.kind == "newline" or tok.op in ("(", "|") or (tok.kind == "word" and text != "esac"):
                return True
            if text == "esac":
                self.stack.pop()
                self.state = ""
                return True
            if tok.op == ")":
                self.state = ""
                return True
            raise Unknown("syntax error in a case pattern")
        return False

    def _redirection(self, op: str) -> None:
        tok = self.lexer.next()
        if tok.kind != "word" or tok.word is None:
            raise Unknown(f"syntax error: {op} without a target")
        if op in ("<<", "<<-"):
            self.lexer.add_heredoc(tok.word, op == "<<-")

    def _operator(self, op: str) -> None:
        if op == "(":
            if len(self.words) == 1:  # name() body: a function definition
                self.words.clear()
                self._expect_close_paren()
                return
            if self.words:
                raise Unknown("syntax error near '('")
            if self.lexer.text.startswith("(", self.lexer.pos):
                raise Unknown("arithmetic command (( … ))")
            self.stack.append("(")
            return
        self._flush()
        if op == ")":
            if not self.stack or self.stack[-1] != "(":
                raise Unknown("syntax error near ')'")
            self.stack.pop()
        elif op in _CASE_ENDS:
            if not self.stack or self.stack[-1] != "case":
                raise Unknown(f"syntax error near {op!r}")
            self.state = "pattern"
        elif op not in _SEPARATORS:
            raise Unknown(f"syntax error near {op!r}")

    def _expect_close_paren(self) -> None:
        tok = self.lexer.next()
        if tok.op != ")":
            raise Unknown("syntax error in a function definition")

    def _flush(self) -> None:
        if self.words:
            words, self.words = tuple(self.words), []
            self.emit(words)

