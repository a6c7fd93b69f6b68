"""What statements do to the session that the bastion must follow: character sets and
SQL-level prepared statements.

Character sets. The bastion lexes statements as the server does only in a client
character set whose multibyte characters never contain a quote or backslash byte
(policies.sql.charsets): a statement or a login that would switch ``character_set_client``
to another one is refused. Results may come in any charset Python decodes, in each
column's own (``NULL``, as Connector/J asks) or as ``binary`` (mysqldump around ``SHOW
CREATE``): masking decodes wide charsets (utf16, utf32, ucs2) by the column definition,
and in ``binary`` — where definitions no longer tell text from bytes — treats every
string column as text, by its origin. A value the bastion cannot know before the
statement runs (a variable, an expression) is refused.

Prepared statements. ``PREPARE name FROM '<literal>'`` is judged with the statement it
carries; the bastion remembers that statement by name, and ``EXECUTE name`` is judged (and
held for approval) as that statement when it runs. A name the bastion did not see
prepared from a literal (``FROM @var``, or prepared before… nothing: names live in the
session) cannot be executed; ``DEALLOCATE``/``DROP PREPARE`` and a connection reset forget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.core.types import Decision
from plugins.mysql.literals import raw
from policies.sql import Classification, Kind, Statement, cached, classify, fingerprint
from policies.sql.approval import modes_of
from policies.sql.charsets import client_charset_problem, codec, normalize
from policies.sql.classification import flatten

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession

CLIENT_VAR = "character_set_client"
"""The charset the server lexes the client's bytes in (``character_set_connection`` only
converts literals after lexing: any value is fine there)."""
RESULTS_VAR = "character_set_results"


INERT_KEYWORDS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE"})
"""Statements that carry none of what the session follows (SET, PREPARE/EXECUTE, CALL,
statements carried in literals), whatever their literal values."""
_INERT: dict[str, Classification] = {}
"""Fingerprint -> what the session needs of every statement with it: nothing (see
:func:`classification`)."""
INERT_MAX = 4096


def classification(s: MySQLSession, sql: str) -> Classification:
    """The statement as far as the session must follow it (the classifier caches it:
    judged once, and the guardrails stage finds it cached).

    Point-selects and other plain DML repeated with other literal values are the bulk of
    the traffic, and each new text costs a full classification (lexer, keyword table,
    statements built around the cached AST summary). When no policy stage classifies SQL
    (an allow-all policy), the session alone needs it, and of a statement whose
    fingerprint is known *inert* — one statement, one of :data:`INERT_KEYWORDS`, nothing
    carried, assigned, prepared or called — it needs only the fingerprint: the lexer's
    work. Literal values cannot make such a statement do more (they never reach its
    fingerprint, and what it carries or assigns is decided by its keywords, which do), so
    it gets a classification without statements, with the fingerprint's kind and flags."""
    nbe, ansi = s.no_backslash_escapes, s.ansi_quotes
    known = cached(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    if known is not None:
        return known
    if any(getattr(stage, "classifies_sql", False) for stage in s.ctx.pipeline.stages):
        return classify(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    fp, _digest = fingerprint(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    inert = _INERT.get(fp)
    if inert is not None:
        return inert
    c = classify(sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    if _is_inert(c):
        if len(_INERT) >= INERT_MAX:
            _INERT.pop(next(iter(_INERT)), None)
        _INERT[c.fingerprint] = Classification((), c.kind, c.flags, c.tables, c.fingerprint, c.digest_text)
    return c


def _is_inert(c: Classification) -> bool:
    if c.kind is Kind.UNKNOWN or c.error or c.flags or len(c.statements) != 1:
        return False
    st = c.statements[0]
    return (st.keyword in INERT_KEYWORDS and not st.inner and not st.assignments and st.prepared_name is None
            and st.routine is None)


def _deny(message: str) -> Decision:
    return Decision.deny(rule="mysql:charset", reason=message, message=message)


def charset_problem(var: str, value: str) -> str | None:
    """Why the bastion refuses ``SET var = value``, or None."""
    if var == CLIENT_VAR:
        return client_charset_problem(value)
    if var == RESULTS_VAR:
        # NULL: values come in each column's own charset, which its definition names (and
        # masking decodes); DEFAULT: the server's. Anything else must be a charset Python
        # can decode; a variable or an expression cannot be known before it runs.
        if value in ("NULL", "DEFAULT") or (normalize(value) and codec(value)):
            return None
        return (f"character_set_results {value[:40]!r} is refused: masking must be able to read the "
                "results, and the bastion cannot know this value before it runs")
    return None


def refusal(c: Classification) -> Decision | None:
    """A DENY for a statement that would take the session where the bastion cannot follow."""
    for st in c.effective:
        for var, value in st.assignments:
            problem = charset_problem(var, value) or _reparsed_problem(st, var)
            if problem:
                return _deny(problem)
    return None


_PARSE_AT_RUN = frozenset({"PREPARE", "EXECUTE IMMEDIATE"})


def _reparsed_problem(st: Statement, var: str) -> str | None:
    """``SET STATEMENT sql_mode = … FOR PREPARE/EXECUTE IMMEDIATE '…'`` parses the carried
    text under a sql_mode the bastion cannot know before it runs (``'a\\'`` is a whole
    string under NO_BACKSLASH_ESCAPES and hides what follows otherwise)."""
    if st.keyword != "SET STATEMENT" or var != "sql_mode":
        return None
    if any(inner.keyword in _PARSE_AT_RUN for inner in flatten(st.inner)):
        return ("SET STATEMENT sql_mode = … FOR a statement that parses SQL text at run time is refused: the "
                "bastion judges that text under the session's sql_mode; set sql_mode first")
    return None


def execute_target(s: MySQLSession, c: Classification) -> tuple[tuple[str, bool] | None, str | None]:
    """For ``EXECUTE name``: (the statement to judge in its place and the
    ``no_backslash_escapes`` it was parsed under at ``PREPARE``, or None; why it cannot run)."""
    for st in c.statements:
        if st.keyword == "EXECUTE" and st.prepared_name is not None:
            if st.prepared_name not in s.sql_prepared:
                return None, f"EXECUTE {st.prepared_name}: not prepared through the bastion in this session"
            inner = s.sql_prepared[st.prepared_name]
            if inner is None:
                return None, f"EXECUTE {st.prepared_name}: prepared from a value the bastion could not judge"
            return inner, None
    return None, None


def track(s: MySQLSession, c: Classification, failed: bool) -> None:
    """Follow what a statement that ran did to the session."""
    for st in c.effective:
        for var, value in st.assignments:
            if var == RESULTS_VAR:
                # sticky while in doubt: binary stays on after SET STATEMENT … FOR, after a
                # statement that failed, and until a plain SET back to text succeeded
                binary = normalize(value) == "binary"
                if failed or _scoped(c, st):
                    s.results_binary = s.results_binary or binary
                else:
                    s.results_binary = binary
    if failed:
        return
    for st in c.statements:
        _track_prepared(s, st)
    if "set_sql_mode" in c.flags or any(st.keyword == "EXECUTE" for st in c.statements):
        follow_sql_mode(s)


def follow_sql_mode(s: MySQLSession) -> None:
    """Read the session's sql_mode back after a statement that may have changed it
    (``SET sql_mode = <anything>``, or ``EXECUTE`` of such a statement). Of its flags the
    server reports ``NO_BACKSLASH_ESCAPES`` in every OK packet, but not ``ANSI_QUOTES``,
    which decides whether ``"x"`` is a string or a name. When it cannot be read the session
    keeps both readings (the guardrails judge a text with ``"`` both ways)."""
    from plugins.mysql.routines import RoutineUnreadable, run_query

    try:
        rows = run_query(s, f"SELECT {raw('@@SESSION.sql_mode')}")
    except RoutineUnreadable:
        s.ansi_quotes = False
        return
    s.ansi_quotes = bool(rows) and modes_of((rows[0][0] or b"").decode("ascii", "replace"))[1]


def _scoped(c: Classification, st: Statement) -> bool:
    return any(outer.keyword == "SET STATEMENT" and st in outer.inner for outer in c.statements) or \
        st.keyword == "SET STATEMENT"


def _track_prepared(s: MySQLSession, st: Statement) -> None:
    name = st.prepared_name
    if name is None:
        return
    if st.keyword == "PREPARE":
        s.sql_prepared[name] = (st.inner[0].text, s.no_backslash_escapes) if len(st.inner) == 1 else None
    elif st.keyword in ("DEALLOCATE PREPARE", "DROP PREPARE"):
        s.sql_prepared.pop(name, None)
