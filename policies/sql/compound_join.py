"""Re-joining a compound statement the lexer split on a ``;`` of its own body.

The lexer splits a payload on every top-level ``;``; inside ``BEGIN … END`` (or a
routine body) those separate the body's statements, not the payload's. Contract of
:func:`join_compounds`: statements that do not open a compound come back unchanged; one
that does is extended (``;`` kept as a token) until its body walk completes or the
payload ends (the classifier then reports the body as not terminated).
"""

from __future__ import annotations

from policies.sql import compound
from policies.sql.keywords import analyze
from policies.sql.lexer import SPACE, Lexed, Token
from policies.sql.tokens import up

SPACE_TOKEN: Token = (SPACE, " ")


def _opens_compound(sig: list[Token]) -> bool:
    """Might this lexed statement be cut short by a ``;`` of its own body?"""
    if compound.is_compound_start(sig, 0, top=True):
        return True
    words = [up(t) for t in sig[:16]]
    return bool(words) and words[0] in ("CREATE", "ALTER") and bool(set(words) & {"PROCEDURE", "FUNCTION",
                                                                                  "TRIGGER", "EVENT"})


def join_compounds(statements: list[Lexed]) -> list[Lexed]:
    """Re-join statements the lexer split on a ``;`` inside a compound body.

    A statement that opens a compound (or a routine) is extended with the following ones
    (``;`` kept as a token) while its body walk runs out of tokens; only a statement with
    ``END`` can complete a body, so others are appended without re-walking.
    """
    out: list[Lexed] = []
    i = 0
    while i < len(statements):
        current = statements[i]
        i += 1
        sig = current.significant()
        if not _opens_compound(sig) or _walk_state(current) != "incomplete":
            out.append(current)
            continue
        tokens, versioned = list(current.tokens), current.versioned
        while i < len(statements):
            nxt = statements[i]
            i += 1
            tokens += [compound.SEMI, SPACE_TOKEN, *nxt.tokens]
            versioned = versioned or nxt.versioned
            if any(up(t) == "END" for t in nxt.tokens) and \
                    _walk_state(Lexed(tokens, versioned)) != "incomplete":  # fmt: skip
                break
        out.append(Lexed(tokens, versioned))
    return out


def _walk_state(lx: Lexed) -> str:
    """"incomplete" when the body walk of ``lx`` runs out of tokens, else "done"."""
    sig = lx.significant()
    kv = analyze(sig)
    if kv.body_at is None or kv.body_at < 0:
        return "done"
    try:
        compound.parse(sig, kv.body_at)
    except compound.Incomplete:
        return "incomplete"
    except compound.Malformed:
        return "done"
    return "done"
