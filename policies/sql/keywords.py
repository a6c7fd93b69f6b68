"""Keyword → category table and the token-level verdict built on it.

Contract: :func:`analyze` looks only at lexer tokens of one statement (no sqlglot) and
returns a :class:`KeywordVerdict`. It fails closed: a first token that is not a known
ASCII keyword gives ``Kind.UNKNOWN``. Flags found here (dangerous functions,
``INTO OUTFILE``, unbounded DELETE/UPDATE, ``SET GLOBAL``…) do not depend on sqlglot, so
they hold even when the AST is skipped or unavailable. Sub-statements that MySQL would
execute (``PREPARE … FROM 'literal'``, ``EXECUTE IMMEDIATE 'literal'``, ``SET STATEMENT …
FOR``, ``ANALYZE <stmt>``, ``EXPLAIN ANALYZE``) are returned in ``inner`` for the caller
to classify: text to lex (a literal's value) or the index where the carried statement
starts in the same tokens. A compound statement or a routine/trigger/event body gives
``body_at`` (walked by ``compound``); ``implied`` names statements that run implicitly
(``CREATE OR REPLACE`` drops, ``ALTER TABLE … DROP``).

The rules that refine a verdict by the words after the first keyword live by statement
family in ``ddl_rules``, ``dml_rules``, ``session_rules`` and ``exec_rules``;
:data:`RULES` maps each first keyword to its rule.
"""

from __future__ import annotations

from policies.sql import compound, ddl_rules, dml_rules, exec_rules, session_rules
from policies.sql.keyword_verdict import KeywordVerdict, Rule
from policies.sql.kinds import A, C, D, F, Kind, R, S, T, W, X
from policies.sql.lexer import IDENTS, ROWS, WORD, Token
from policies.sql.tokens import ident, up, word_set

# First keyword → default category; rules refine by the following words.
FIRST: dict[str, Kind] = {
    **dict.fromkeys(word_set("SELECT SHOW DESCRIBE DESC EXPLAIN HELP VALUES TABLE WITH"), R),
    **dict.fromkeys(word_set("INSERT REPLACE UPDATE DELETE MERGE"), W),
    **dict.fromkeys(word_set("TRUNCATE CREATE ALTER DROP RENAME"), D),
    **dict.fromkeys(word_set("GRANT REVOKE"), C),
    **dict.fromkeys(
        word_set(
            "SHUTDOWN RESTART KILL FLUSH RESET PURGE INSTALL UNINSTALL BINLOG CHANGE START STOP HANDLER XA "
            "LOCK CACHE OPTIMIZE REPAIR ANALYZE CHECK CHECKSUM CLONE IMPORT BACKUP"
        ),
        A,
    ),
    "LOAD": F,
    # UNLOCK only releases the session's own locks (mysqldump always sends it): harmless.
    **dict.fromkeys(word_set("SET USE UNLOCK"), S),
    **dict.fromkeys(word_set("BEGIN COMMIT ROLLBACK SAVEPOINT RELEASE"), T),
    **dict.fromkeys(word_set("CALL PREPARE EXECUTE DEALLOCATE DO"), X),
}
# Statements whose AST sqlglot can refine (tables, WHERE, columns).
REFINABLE = word_set(
    "SELECT TABLE VALUES DESCRIBE DESC EXPLAIN WITH INSERT REPLACE UPDATE DELETE MERGE "
    "CREATE ALTER DROP RENAME TRUNCATE"
)
# First keywords whose keyword string includes the second word ("LOAD DATA", "LOCK TABLES").
_TWO_WORDS = word_set(
    "START STOP LOAD LOCK UNLOCK CHANGE CACHE RESET PURGE INSTALL UNINSTALL DEALLOCATE XA FLUSH CHECK "
    "CHECKSUM OPTIMIZE REPAIR RELEASE BACKUP SHOW"
)
_FUNC_FLAGS = {"LOAD_FILE": "load_file", "SLEEP": "sleep", "BENCHMARK": "sleep"}


def _flag(name: str) -> Rule:
    def rule(v: KeywordVerdict, sig: list[Token], i: int, nbe: bool) -> None:
        v.flags.add(name)

    return rule


RULES: dict[str, Rule] = {
    **dict.fromkeys(("CREATE", "ALTER", "DROP", "RENAME"), ddl_rules.ddl_rule),
    **dict.fromkeys(("DELETE", "UPDATE", "TRUNCATE", "WITH"), dml_rules.dml_rule),
    **dict.fromkeys(("LOCK", "FLUSH", "BACKUP"), session_rules.lock_rule),
    **dict.fromkeys(("ANALYZE", "EXPLAIN", "DESCRIBE", "DESC"), dml_rules.analyze_rule),
    "SET": session_rules.set_rule, "START": session_rules.start_rule, "BEGIN": session_rules.begin_rule,
    "LOAD": session_rules.load_rule, "KILL": session_rules.kill_rule, "USE": session_rules.use_rule,
    "PREPARE": exec_rules.prepare_rule, "EXECUTE": exec_rules.execute_rule, "CALL": exec_rules.call_rule,
    "GRANT": _flag("grant"), "DEALLOCATE": exec_rules.deallocate_rule,
}  # fmt: skip


def analyze(sig: list[Token], *, no_backslash_escapes: bool = False) -> KeywordVerdict:
    """Classify one statement's significant tokens by keyword; see the module contract."""
    start = 0
    while start < len(sig) and sig[start] == ("p", "("):
        start += 1
    first = up(sig[start]) if start < len(sig) else ""
    if start == 0 and compound.is_compound_start(sig, 0, top=True):  # BEGIN NOT ATOMIC, IF, labels…
        word = first if first in compound.OPENERS else up(sig[2])
        keyword = "BEGIN NOT ATOMIC" if word == "BEGIN" else word
        return KeywordVerdict(Kind.EXEC, keyword, flags=scan(sig), body_at=0)
    kind = FIRST.get(first)
    if kind is None:
        shown = first or (sig[start][1][:32] if start < len(sig) else "")
        return KeywordVerdict(Kind.UNKNOWN, shown, flags=scan(sig))
    second = up(sig[start + 1]) if start + 1 < len(sig) else ""
    v = KeywordVerdict(kind, f"{first} {second}" if first in _TWO_WORDS and second else first)
    v.refinable = first in REFINABLE
    rule = RULES.get(first)
    if rule is not None:
        rule(v, sig, start, no_backslash_escapes)
    v.flags |= scan(sig)
    v.refinable = v.refinable and v.kind in (R, W, D)
    return v


def scan(sig: list[Token]) -> set[str]:
    """Flags visible anywhere in the statement: dangerous function calls and INTO OUTFILE/DUMPFILE."""
    flags: set[str] = set()
    last = len(sig) - 1
    for i, (k, t) in enumerate(sig):
        if k not in IDENTS or i == last:
            continue
        nxt = sig[i + 1]
        if nxt == ("p", "(") or nxt[0] == ROWS:  # f(1, 2), (3), … lexes as one ROWS token
            # A quoted name calls the native function too: `load_file`('/etc/passwd').
            flag = _FUNC_FLAGS.get(ident((k, t)).upper())
            if flag:
                flags.add(flag)
            if k == WORD and t.upper() == "ANALYSE" and i > 0 and up(sig[i - 1]) == "PROCEDURE":
                flags.add("procedure_analyse")
        elif len(t) == 4 and t.upper() == "INTO" and up(nxt) in ("OUTFILE", "DUMPFILE"):
            flags.add("outfile")
    return flags
