"""MySQL-aware pre-lexer: split a query into statements of code tokens.

Contract:

* ``lex(sql, no_backslash_escapes=..., ansi_quotes=...)`` returns a :class:`LexResult`.
  Each :class:`Lexed` statement is a list of ``(kind, text)`` tokens with comments
  removed and whitespace collapsed into single ``SPACE`` tokens (never leading,
  trailing or doubled). Empty statements are dropped.
* Versioned comments ``/*!…*/``, ``/*!NNNNN…*/`` and ``/*M!NNNNNN…*/`` are unwrapped into
  code **whatever the version** (the target's choice cannot be known; a false positive is
  fine, a hidden ``DROP`` is not). Optimizer hints ``/*+ … */`` and other comments are
  dropped. ``;`` splits statements outside quotes and comments, also inside a versioned
  comment.
* Anything the lexer cannot handle (NUL byte, unterminated quote, comment or versioned
  comment) sets ``LexResult.error``; callers must fail closed.

The loop is regex-jump based: one ``finditer`` per lexer state, one Python step per
token, never per character of a plain run. A quoted string whose first ``LONG_QUOTED``
characters hold no quote and no backslash is scanned with ``str.find`` (memchr speed)
instead of the regex, so a 40 MB literal costs a few milliseconds: a quote closes the
string unless an odd run of backslashes precedes it (backslash mode) or it is doubled.
Densely escaped strings stay on the regex (cheaper per escape than a Python step).
Likewise a run of at least ``MIN_ROWS`` parenthesised tuples of plain literals (a bulk
``INSERT … VALUES (…), (…), …``) is one ``ROWS`` token: it holds no identifier, no
function and no keyword but ``NULL``, so nothing is lost for the classifier, and a 16 MB
dump statement is lexed at regex speed instead of one Python step per value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Token kinds.
SPACE = "_"  # collapsed whitespace or comment
WORD = "w"  # bare word: keyword or unquoted identifier
QIDENT = "q"  # `quoted` identifier
AIDENT = "a"  # "quoted" identifier under ANSI_QUOTES
STRING = "s"  # '…' or (without ANSI_QUOTES) "…"
XLIT = "x"  # X'…', B'…', N'…' literals
NUMBER = "n"  # numbers, 0x…, 0b…, \N
PUNCT = "p"  # a single ( ) or ,
ROWS = "r"  # (lit, …), (lit, …), … — MIN_ROWS or more tuples of plain literals
OP = "o"  # any other operator run

LITERALS = frozenset({STRING, XLIT, NUMBER, ROWS})
IDENTS = frozenset({WORD, QIDENT, AIDENT})

_WS = " \t\n\r\f\v"  # MySQL whitespace is ASCII only; U+00A0 etc. are identifier characters
_IDCHAR = r"0-9A-Za-z_$\x80-\U0010ffff"
LONG_QUOTED = 256
MIN_ROWS = 8
_NUM_END = rf"(?![{_IDCHAR}])"


def _quoted(quote: str, backslash: bool) -> str:
    """Regex for a quoted run with doubled-quote (and optionally backslash) escapes."""
    q = re.escape(quote)
    if backslash:
        return rf"{q}[^{q}\\]*+(?:(?:\\[\s\S]|{q}{q})[^{q}\\]*+)*+{q}"
    return rf"{q}[^{q}]*+(?:{q}{q}[^{q}]*+)*+{q}"


def _build(nbe: bool, ansi: bool, versioned: bool) -> re.Pattern[str]:
    backslash = not nbe
    single = _quoted("'", backslash)
    double = _quoted('"', False) if ansi else _quoted('"', backslash)
    long_single, long_double = rf"(?=[^'\\]{{{LONG_QUOTED}}})", rf"(?=[^\"\\]{{{LONG_QUOTED}}})"
    tokens = [  # most frequent first; prefixed literals before words, numbers before digit-led words
        rf"(?P<r>{_rows(single, double, ansi)})",
        r"(?P<vc>\*/)" if versioned else "",
        rf"(?P<long>[nN]?'{long_single}|\"{long_double})",  # a long string: scanned by _long_quoted
        rf"(?P<x>[xX]'[0-9a-fA-F]*'|[bB]'[01]*'|[nN]{single})",
        rf"(?P<w>[A-Za-z_$\x80-\U0010ffff][{_IDCHAR}]*)",
        r"(?P<p>[(),])",
        rf"(?P<o>[^ \t\n\r\f\v{_IDCHAR}(),'\"`#;/*.\\-]+)",
        rf"(?P<s>{single})" + ("" if ansi else rf"|(?P<s2>{double})"),
        rf"(?P<a>{double})" if ansi else "",
        rf"(?P<n>(?:0[xX][0-9a-fA-F]+|0[bB][01]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?){_NUM_END}|\\N{_NUM_END})",
        rf"(?P<w2>[{_IDCHAR}]+)",  # MySQL identifiers may start with a digit: 1abc
        rf"(?P<q>{_quoted('`', False)})",
        r"(?P<c>\#[^\n]*+|--(?=[\x00-\x20\x7f]|\Z)[^\n]*+|/\*(?![Mm]?!)[\s\S]*?\*/)",
        r"(?P<vo>/\*[Mm]?!\d*)",
        r"(?P<semi>;)",
        r"(?P<err>['\"`][\s\S]*|/\*[\s\S]*)",
        r"(?P<o2>[\s\S])",
        r"(?P<end>\Z)",
    ]
    # Leading whitespace is folded into each match: one Python step per token, not two.
    return re.compile(r"[ \t\n\r\f\v]*(?:" + "|".join(t for t in tokens if t) + ")")


def _rows(single: str, double: str, ansi: bool) -> str:
    """MIN_ROWS or more ``(lit, …)`` tuples; literals are strings, numbers, hex/bit literals, NULL."""
    number = r"[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    lit = "|".join([single] + ([] if ansi else [double]) + [r"[xX]'[0-9a-fA-F]*'", r"[bB]'[01]*'",
                                                             rf"{number}(?![{_IDCHAR}.])", r"NULL\b", r"\\N\b"])
    ws = r"[ \t\n\r]*+"
    row = rf"\({ws}(?:{lit}){ws}(?:,{ws}(?:{lit}){ws})*+\)"
    return rf"{row}(?:{ws},{ws}{row}){{{MIN_ROWS - 1},}}+"


_BOOLS = (False, True)
_PATTERNS: dict[tuple[bool, bool, bool], re.Pattern[str]] = {
    (nbe, ansi, ver): _build(nbe, ansi, ver) for nbe in _BOOLS for ansi in _BOOLS for ver in _BOOLS
}
_KIND = {"s2": STRING, "o": OP, "p": PUNCT, "n": NUMBER, "x": XLIT, "w": WORD, "s": STRING, "r": ROWS}
_KIND.update({"a": AIDENT, "q": QIDENT, "w2": WORD, "o2": OP})
_SPACE_TOK = (SPACE, " ")

Token = tuple[str, str]


@dataclass(slots=True)
class Lexed:
    """One statement: code tokens (whitespace collapsed) and whether a versioned comment fed it."""

    tokens: list[Token]
    versioned: bool = False

    def text(self) -> str:
        """Normalized code text: literals kept verbatim."""
        return "".join([t for _, t in self.tokens])

    def digest(self) -> str:
        """Normalized text with every literal replaced by ``?`` (safe to log)."""
        return "".join(["?" if k in LITERALS else t for k, t in self.tokens])

    def shape(self) -> str:
        """sqlglot-ready text: literals canonicalized (so the AST is literal-independent),
        ANSI identifiers re-quoted with backticks, strings without mode-dependent escapes."""
        return "".join([_shape_token(k, t) if k in _SHAPED else t for k, t in self.tokens])

    def significant(self) -> list[Token]:
        """Tokens without the SPACE separators."""
        return [tok for tok in self.tokens if tok[0] != SPACE]


_SHAPED = frozenset({STRING, NUMBER, XLIT, AIDENT, ROWS})


def _shape_token(kind: str, text: str) -> str:
    if kind == STRING:
        return "'s'"
    if kind == NUMBER:
        return "NULL" if text == "\\N" else "0"
    if kind == ROWS:
        return "(0)"
    if kind == XLIT:
        return text[0] + ("'0'" if text[0] in "xXbB" else "'s'")
    if kind == AIDENT:
        return "`" + unquote(text).replace("`", "``") + "`"
    return text


@dataclass(slots=True)
class LexResult:
    statements: list[Lexed]
    error: str = ""
    versioned: bool = False


def _close(stmts: list[Lexed], cur: list[Token], versioned: bool) -> None:
    if cur and cur[-1] is _SPACE_TOK:
        cur.pop()
    if cur:
        stmts.append(Lexed(cur, versioned))


def lex(sql: str, *, no_backslash_escapes: bool = False, ansi_quotes: bool = False) -> LexResult:
    """Split ``sql`` into code statements; see the module docstring for the contract."""
    if "\x00" in sql:
        return LexResult([], "NUL byte in statement")
    stmts: list[Lexed] = []
    cur: list[Token] = []
    cur_ver = any_ver = in_ver = False
    pos, end = 0, len(sql)
    while pos < end:
        switched = False
        for m in _PATTERNS[(no_backslash_escapes, ansi_quotes, in_ver)].finditer(sql, pos):
            text, group = m.group(), m.lastgroup
            if text and text[0] in _WS:
                text = text.lstrip(_WS)
                if cur and cur[-1] is not _SPACE_TOK:
                    cur.append(_SPACE_TOK)
            kind = _KIND.get(group or "")
            if kind is not None:
                cur.append((kind, text))
            elif group == "c" or group == "vo" or group == "vc":
                if cur and cur[-1] is not _SPACE_TOK:
                    cur.append(_SPACE_TOK)  # a comment separates tokens like whitespace
                if group != "c":  # versioned markers: lex the body as code, in the other state
                    in_ver = group == "vo"
                    any_ver = cur_ver = True
                    pos, switched = m.end(), True
                    break
            elif group == "long":
                start = m.start("long")
                stop = _long_quoted(sql, start, no_backslash_escapes, ansi_quotes)
                if stop < 0:
                    at = start + (sql[start] in "nN")  # where the regex path reports it: the quote
                    return LexResult(stmts, f"unterminated quoted token at offset {at}", any_ver)
                cur.append((_long_kind(text[0], ansi_quotes), sql[start:stop]))
                pos, switched = stop, True
                break
            elif group == "semi":
                _close(stmts, cur, cur_ver)
                cur, cur_ver = [], in_ver
            elif group == "err":
                what = "comment" if text.startswith("/*") else "quoted token"
                return LexResult(stmts, f"unterminated {what} at offset {m.end() - len(text)}", any_ver)
        if not switched:
            break
    if in_ver:
        return LexResult(stmts, "unterminated versioned comment", any_ver)
    _close(stmts, cur, cur_ver)
    return LexResult(stmts, "", any_ver)


def _long_kind(first: str, ansi: bool) -> str:
    if first in "nN":
        return XLIT
    return AIDENT if first == '"' and ansi else STRING


def _long_quoted(sql: str, start: int, nbe: bool, ansi: bool) -> int:
    """End (after the closing quote) of the quoted token at ``start``, or -1 if unterminated.

    Same rules as the regex: a doubled quote continues the token; with backslash escapes
    (strings only) a quote preceded by an odd run of backslashes is escaped.
    """
    quote_at = start + 1 if sql[start] in "nN" else start
    quote = sql[quote_at]
    backslash = not nbe and not (quote == '"' and ansi)
    pos = quote_at + 1
    while True:
        j = sql.find(quote, pos)
        if j < 0:
            return -1
        if backslash:
            k = j
            while k > pos and sql[k - 1] == "\\":
                k -= 1
            if (j - k) % 2:
                pos = j + 1
                continue
        if sql.startswith(quote, j + 1):
            pos = j + 2
            continue
        return j + 1


_ESCAPES = {"0": "\x00", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
_BACKSLASH = re.compile(r"\\([\s\S])")


def unquote(text: str, *, no_backslash_escapes: bool = True) -> str:
    """The value of a quoted token (string or identifier), MySQL escape rules applied.

    Backslash escapes apply only to strings and only when ``no_backslash_escapes`` is
    false; ``\\%`` and ``\\_`` keep their backslash, as in MySQL.
    """
    quote, body = text[0], text[1:-1]
    if quote in "nN":
        quote, body = text[1], text[2:-1]
    if no_backslash_escapes or quote == "`":
        return body.replace(quote * 2, quote)
    out: list[str] = []
    pos = 0
    for m in _BACKSLASH.finditer(body):
        out.append(body[pos : m.start()].replace(quote * 2, quote))
        ch = m.group(1)
        out.append("\\" + ch if ch in "%_" else _ESCAPES.get(ch, ch))
        pos = m.end()
    out.append(body[pos:].replace(quote * 2, quote))
    return "".join(out)
