"""Reading words and names from a statement's significant tokens (lexer output).

Contract: a *word* is a bare ASCII keyword-shaped token, upper-cased; a quoted
identifier is never a word (`` `select` `` is a name). A *name* is a bare or quoted
identifier, unquoted, case kept.
"""

from __future__ import annotations

from policies.sql.lexer import IDENTS, WORD, Token, unquote


def up(tok: Token | None) -> str:
    """Upper-cased bare word, or "" for anything else (quoted identifiers are never keywords)."""
    return tok[1].upper() if tok is not None and tok[0] == WORD and tok[1].isascii() else ""


def ident(tok: Token) -> str:
    """The identifier a bare or quoted name token stands for."""
    return tok[1] if tok[0] == WORD else unquote(tok[1])


def qualified(sig: list[Token], i: int) -> tuple[str | None, int]:
    """``name`` or ``schema.name`` at ``i`` (unquoted, case kept) and the index after it."""
    if i >= len(sig) or sig[i][0] not in IDENTS:
        return None, i
    name = ident(sig[i])
    if i + 2 < len(sig) and sig[i + 1][1] == "." and sig[i + 2][0] in IDENTS:
        return f"{name}.{ident(sig[i + 2])}", i + 3
    return name, i + 1


def lower_name(sig: list[Token], j: int) -> str | None:
    """The name at ``j``, lower-cased (a prepared statement's: case-insensitive in the server)."""
    return ident(sig[j]).lower() if j < len(sig) and sig[j][0] in IDENTS else None


def word_set(text: str) -> frozenset[str]:
    """The words of a space-separated keyword list (for keyword tables)."""
    return frozenset(text.split())
