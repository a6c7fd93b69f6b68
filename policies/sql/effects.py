"""Token-level effects of one statement that the plugin tracks or the rules must see.

* :func:`assignments` — session variables a ``SET`` assigns, as ``(variable, value)``
  pairs. ``SET NAMES x [COLLATE y]`` and ``SET CHARACTER SET x`` expand to the variables
  the server sets. Names are lower-case without scope prefix; global assignments
  (``GLOBAL``, ``@@global.``) and user variables (``@x``) are left out. A value that is a
  single literal or name is unquoted (``DEFAULT`` and ``NULL`` upper-case); anything else
  is its code text with tokens separated by one space — the plugin must refuse or
  re-query what it cannot evaluate.
* :func:`alter_drops` — the ``DROP …`` / ``TRUNCATE PARTITION`` actions of an
  ``ALTER TABLE``: each becomes an implied statement so a rule on keyword ``DROP`` sees it.
"""

from __future__ import annotations

from policies.sql.lexer import IDENTS, NUMBER, STRING, XLIT, Token, unquote
from policies.sql.tokens import ident, up

Assignment = tuple[str, str]
_SCOPES = {"SESSION": "session", "LOCAL": "session", "GLOBAL": "global", "PERSIST": "global",
           "PERSIST_ONLY": "global"}  # fmt: skip
_NAMES_VARS = ("character_set_client", "character_set_connection", "character_set_results")
_DROP_OBJECTS = frozenset({"COLUMN", "INDEX", "KEY", "PRIMARY", "FOREIGN", "CONSTRAINT", "CHECK", "PARTITION",
                           "SYSTEM", "PERIOD"})  # fmt: skip


def _split_items(sig: list[Token], i: int) -> list[list[Token]]:
    """Comma-separated items at paren depth 0 from ``i`` to the end."""
    items: list[list[Token]] = [[]]
    depth = 0
    for tok in sig[i:]:
        if tok[0] == "p":
            if tok[1] == "," and depth == 0:
                items.append([])
                continue
            depth += {"(": 1, ")": -1}.get(tok[1], 0)
        items[-1].append(tok)
    return [item for item in items if item]


def value_text(toks: list[Token], *, no_backslash_escapes: bool = False) -> str:
    """A single literal or name unquoted, else the expression's code text."""
    if len(toks) == 1:
        kind, text = toks[0]
        if kind == STRING:
            return unquote(text, no_backslash_escapes=no_backslash_escapes)
        if kind in IDENTS:
            word = ident(toks[0])
            return word.upper() if kind != "q" and word.upper() in ("DEFAULT", "NULL", "ON", "OFF") else word
        if kind in (NUMBER, XLIT):
            return text
    return " ".join(t for _, t in toks)


def _names(item: list[Token], nbe: bool, charset_only: bool) -> list[Assignment]:
    """``NAMES x [COLLATE y]`` / ``CHARACTER SET x`` (the leading words already removed)."""
    collate = next((k for k, t in enumerate(item) if up(t) == "COLLATE"), len(item))
    charset = value_text(item[:collate], no_backslash_escapes=nbe)
    if charset_only:  # SET CHARACTER SET: connection follows the database's charset
        return [("character_set_client", charset), ("character_set_results", charset),
                ("character_set_connection", "@@character_set_database"),
                ("collation_connection", "@@collation_database")]  # fmt: skip
    out = [(name, charset) for name in _NAMES_VARS]
    if collate < len(item):
        out.append(("collation_connection", value_text(item[collate + 1 :], no_backslash_escapes=nbe)))
    return out


def assignments(sig: list[Token], i: int, *, no_backslash_escapes: bool = False) -> tuple[Assignment, ...]:
    """Session assignments of ``SET`` whose first word is at ``i`` (see the module contract).

    For ``SET STATEMENT a=1, b=2 FOR …`` pass the tokens up to ``FOR``: the pairs then
    apply to the carried statement only.
    """
    out: list[Assignment] = []
    for item in _split_items(sig, i + 1):
        words = [up(t) for t in item[:3]]
        if words[:1] == ["NAMES"]:
            out += _names(item[1:], no_backslash_escapes, False)
            continue
        if words[:1] == ["CHARSET"] or words[:2] in (["CHARACTER", "SET"], ["CHAR", "SET"]):
            out += _names(item[1 if words[0] == "CHARSET" else 2 :], no_backslash_escapes, True)
            continue
        # A scope word is read per item: an item after ``GLOBAL a=1,`` without its own scope
        # is reported as a session assignment (the stricter reading for the plugin).
        scope, k = (_SCOPES[words[0]], 1) if words[0] in _SCOPES else ("session", 0)
        pair = _variable(item, k, scope, no_backslash_escapes)
        if pair is not None:
            out.append(pair)
    return tuple(out)


def _variable(item: list[Token], k: int, scope: str, nbe: bool) -> Assignment | None:
    eq = next((j for j, t in enumerate(item) if t[0] == "o" and t[1].startswith(("=", ":="))), -1)
    if eq <= k:
        return None
    op = item[eq][1]
    rest = op[2:] if op.startswith(":=") else op[1:]
    value = ([("o", rest)] if rest else []) + item[eq + 1 :]  # "=@x" lexes as one operator run
    name_toks = item[k:eq]
    this_scope = scope
    if name_toks and name_toks[0][0] == "o" and name_toks[0][1].startswith("@"):
        if name_toks[0][1] != "@@":
            return None  # a user variable
        name_toks = name_toks[1:]
        this_scope = "session"
        if len(name_toks) >= 3 and name_toks[1][1] == "." and up(name_toks[0]) in _SCOPES:
            this_scope, name_toks = _SCOPES[up(name_toks[0])], name_toks[2:]
    if this_scope != "session" or len(name_toks) != 1 or name_toks[0][0] not in IDENTS:
        return None
    return ident(name_toks[0]).lower(), value_text(value, no_backslash_escapes=nbe)


def _engine_value(sig: list[Token], j: int) -> str:
    """The engine named after ``ENGINE`` at ``j`` (``ENGINE [=] name``), upper-cased."""
    k = j + 1
    if k < len(sig) and sig[k][1] == "=":
        k += 1
    if k >= len(sig) or sig[k][0] not in ("w", "q", "a", "s"):  # a bare, quoted or ANSI-quoted name, a string
        return ""
    return sig[k][1].strip("`'\"").upper()


def alter_drops(sig: list[Token], i: int) -> list[str]:
    """``DROP <what>`` and ``TRUNCATE PARTITION`` actions of ``ALTER TABLE`` at depth 0,
    and the actions that destroy the rows without saying so: ``ENGINE=BLACKHOLE`` (at any
    depth: a partition's engine too; the rows are discarded) and ``DISCARD [PARTITION …]
    TABLESPACE`` (the data file is deleted) imply ``TRUNCATE``."""
    out: list[str] = []
    depth = 0
    for j in range(i, len(sig)):
        tok = sig[j]
        if tok[0] == "p":
            depth += {"(": 1, ")": -1}.get(tok[1], 0)
            continue
        if up(tok) == "ENGINE" and _engine_value(sig, j) == "BLACKHOLE" and "TRUNCATE" not in out:
            out.append("TRUNCATE")
        word = up(tok) if depth == 0 else ""
        nxt = up(sig[j + 1]) if j + 1 < len(sig) else ""
        if word == "DISCARD" and "TRUNCATE" not in out:
            out.append("TRUNCATE")
        if word == "DROP":
            what = nxt if nxt in _DROP_OBJECTS else "COLUMN"
            out.append("DROP " + {"KEY": "INDEX", "SYSTEM": "SYSTEM VERSIONING", "PRIMARY": "PRIMARY KEY",
                                  "FOREIGN": "FOREIGN KEY", "PERIOD": "PERIOD"}.get(what, what))  # fmt: skip
        elif word == "TRUNCATE" and nxt == "PARTITION":
            out.append("TRUNCATE PARTITION")
    return out
