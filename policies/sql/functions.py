"""Which stored functions a statement may call: names written as a call, for a lookup.

Contract of :func:`called_functions` (pure): every ``name (`` and ``schema.name (`` in the
code of ``sql`` — lexed like the classifier lexes it, so comments, versioned comments,
white space (a stored function may be called with a space before its parenthesis) and
quoting (backquotes, ANSI quotes) are seen through — as ``name`` or ``schema.name``,
unquoted, case kept, in order, without repeats. Unqualified names of MariaDB's built-in
functions and of keywords followed by a parenthesis are left out: an unqualified call
of such a name runs the built-in, never a stored function (MariaDB resolves a stored
function named like a built-in only when qualified). Everything else is a candidate: the
caller looks it up among the target's stored functions, and a name that is none (a table
in ``INSERT INTO t (…)``, a function that does not exist) simply has no body to judge.
When the lexer fails, ``None``: the caller fails closed.
"""

from __future__ import annotations

from policies.sql.lexer import IDENTS, WORD, Token, lex
from policies.sql.tokens import ident

NOT_STORED = frozenset("""
ABS ACOS ADDDATE ADDTIME AES_DECRYPT AES_ENCRYPT ALL AND ANY ASCII ASIN ATAN ATAN2 AVG BENCHMARK BIN BINARY
BIT_AND BIT_COUNT BIT_LENGTH BIT_OR BIT_XOR CASE CAST CEIL CEILING CHAR CHARACTER_LENGTH CHARSET CHAR_LENGTH
COALESCE COERCIBILITY COLLATION COLUMNS COMPRESS CONCAT CONCAT_WS CONNECTION_ID CONSTRAINT CONV CONVERT
CONVERT_TZ COS COT COUNT CRC32 CURDATE CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURTIME DATABASE
DATE DATEDIFF DATE_ADD DATE_FORMAT DATE_SUB DAY DAYNAME DAYOFMONTH DAYOFWEEK DAYOFYEAR DECIMAL DEFAULT DEGREES
ELT EXISTS EXP EXPORT_SET EXTRACT FIELD FIND_IN_SET FLOOR FOR FORMAT FOUND_ROWS FROM FROM_BASE64 FROM_DAYS
FROM_UNIXTIME GET_FORMAT GET_LOCK GREATEST GROUP_CONCAT HEX HOUR IF IFNULL IN INDEX INET6_ATON INET6_NTOA
INET_ATON INET_NTOA INSERT INSTR INTERVAL ISNULL IS_FREE_LOCK IS_USED_LOCK JSON_ARRAY JSON_ARRAYAGG
JSON_CONTAINS JSON_EXTRACT JSON_OBJECT JSON_OBJECTAGG JSON_QUOTE JSON_SET JSON_UNQUOTE JSON_VALUE KEY
LAST_DAY LAST_INSERT_ID LCASE LEAST LEFT LENGTH LIKE LN LOAD_FILE LOCALTIME LOCALTIMESTAMP LOCATE LOG LOG10
LOG2 LOWER LPAD LTRIM MAKEDATE MAKETIME MAKE_SET MASTER_POS_WAIT MATCH MAX MD5 MICROSECOND MID MIN MINUTE MOD
MONTH MONTHNAME NAME_CONST NOT NOW NULLIF OCT OCTET_LENGTH ON OR ORD OVER PASSWORD PERIOD_ADD PERIOD_DIFF PI
POSITION POW POWER PRIMARY PROCEDURE QUARTER QUOTE RADIANS RAND REGEXP REGEXP_INSTR REGEXP_REPLACE
REGEXP_SUBSTR RELEASE_LOCK REPEAT REPLACE REVERSE RIGHT ROUND ROW ROW_COUNT ROW_NUMBER RPAD RTRIM SCHEMA
SECOND SEC_TO_TIME SELECT SESSION_USER SET SHA SHA1 SHA2 SIGN SIN SLEEP SOUNDEX SPACE SQRT STD STDDEV
STDDEV_POP STDDEV_SAMP STRCMP STR_TO_DATE SUBDATE SUBSTR SUBSTRING SUBSTRING_INDEX SUBTIME SUM SYSDATE
SYSTEM_USER TAN TIME TIMEDIFF TIMESTAMP TIMESTAMPADD TIMESTAMPDIFF TIME_FORMAT TIME_TO_SEC TO_BASE64 TO_DAYS
TO_SECONDS TRIM TRUNCATE UCASE UNCOMPRESS UNHEX UNIQUE UNIX_TIMESTAMP UPPER USER USING UTC_DATE UTC_TIME
UTC_TIMESTAMP UUID UUID_SHORT VALUES VARIANCE VAR_POP VAR_SAMP VERSION WEEK WEEKDAY WEEKOFYEAR WHERE
WEIGHT_STRING XOR YEAR YEARWEEK
""".split())
"""Unqualified names a parenthesis may follow that never call a stored function (an
optimisation only: a name missing here is looked up, and found to be no stored function)."""


def called_functions(sql: str, *, no_backslash_escapes: bool = False, ansi_quotes: bool = False,
                     ) -> tuple[str, ...] | None:  # fmt: skip
    """The stored-function candidates ``sql`` calls (see the module contract)."""
    lexed = lex(sql, no_backslash_escapes=no_backslash_escapes, ansi_quotes=ansi_quotes)
    if lexed.error:
        return None
    found: dict[str, None] = {}
    for statement in lexed.statements:
        found.update(dict.fromkeys(calls_in(statement.significant())))
    return tuple(found)


def calls_in(sig: list[Token]) -> tuple[str, ...]:
    """The candidates among one statement's significant tokens (the classifier keeps them
    on each :class:`~policies.sql.classification.Statement`, so they are cached with it)."""
    found: dict[str, None] = {}
    for i in range(1, len(sig)):
        if sig[i] != ("p", "(") or sig[i - 1][0] not in IDENTS:
            continue
        name = ident(sig[i - 1])
        if i >= 3 and sig[i - 2][1] == "." and sig[i - 3][0] in IDENTS:
            found[f"{ident(sig[i - 3])}.{name}"] = None
        elif i >= 2 and sig[i - 2][1] == ".":
            continue  # `.name(`: a qualified name the lexer could not read whole; not a schema call
        elif not (sig[i - 1][0] == WORD and name.upper() in NOT_STORED):
            found[name] = None
    return tuple(found)
