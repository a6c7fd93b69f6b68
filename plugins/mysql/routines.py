"""``CALL p()`` runs whatever body the target holds for ``p``: that body is judged.

A routine created through the bastion had its body judged at ``CREATE`` time, but one
created before, directly on the target, or replaced since, was not. So at every ``CALL``
the bastion reads the procedure's definition through the session's own upstream
connection (``information_schema.ROUTINES``) and judges it with the call: a body that
drops a table is refused under a no-drop rule, one that deletes waits for an approver.
A body that cannot be read (no such routine, or not visible to the bastion's account)
is refused: fail closed.

Stored functions run inside any statement that names them (``SELECT f()``, ``DO f()``,
``INSERT … VALUES (f())``, a ``WHERE`` clause): a function cannot run dynamic SQL or
commit (so no DROP), but it can modify tables. So a statement whose code calls names
that are not built-ins (policies.sql.functions) has the bodies of the stored functions
the target holds under those names looked up the same way and judged with it; a name
that is no stored function (a table before its column list, a typo) has no body. A body
the session's account cannot read (``ROUTINE_DEFINITION`` NULL) is refused. Bodies are
looked up level by level: the routines a looked-up body calls (procedures and functions,
unqualified names in the routine's own database) are judged with the statement too, so a
function that only calls the one that deletes waits for an approver as the deleting one
does (:func:`look_up`). Triggers on the tables a statement or a body writes are looked up
at each level too (:mod:`plugins.mysql.triggers`).

A lookup is a statement of its own on the session's connection, run just before the
user's: inside that statement, ``FOUND_ROWS()`` and ``ROW_COUNT()`` describe the lookup,
not the user's previous statement (a statement calling a stored function or a procedure,
or writing a table: the trigger lookup).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plugins.mysql import triggers, views
from plugins.mysql.bodies import Body
from plugins.mysql.codec import COM_QUERY, ErrItem, ResponseTracker, RowItem, parse_text_row
from plugins.mysql.literals import hex_string, raw
from policies.sql import Classification, classify
from policies.sql.kinds import Kind

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession

READ_TIMEOUT = 30.0
MAX_LEVELS = 8
"""Routines calling routines: how many levels of bodies are looked up."""
MAX_ROUTINES = 64
"""How many routines one statement may reach, all levels together."""


class RoutineUnreadable(Exception):
    """The routine's body could not be read: the call must not run."""


def called(c: Classification) -> list[str]:
    """The procedures a statement calls (``schema.name`` or ``name``), in order."""
    return [st.routine for st in c.effective if st.keyword == "CALL" and st.routine]


def body_statement(s: MySQLSession, name: str) -> Body:
    """The body of procedure ``name`` (``schema.name``, or a name in the session's
    database) under its own sql_mode; raises :class:`RoutineUnreadable`."""
    schema, _, routine = name.rpartition(".")
    schema = schema or s.schema
    if not schema:
        raise RoutineUnreadable(f"CALL {name}: no database selected, so the routine cannot be judged")
    rows = run_query(s, f"SELECT {raw('ROUTINE_DEFINITION', 'SQL_MODE')} FROM information_schema.ROUTINES"
                        " WHERE ROUTINE_TYPE = 'PROCEDURE'"
                        f" AND ROUTINE_SCHEMA = {hex_string(schema)} AND ROUTINE_NAME = {hex_string(routine)}")
    if not rows or rows[0][0] is None:
        raise RoutineUnreadable(f"CALL {name}: the procedure's body cannot be read by the bastion, so it is refused")
    return Body.read(rows[0][0], rows[0][1])


@dataclass
class Lookup:
    """Every routine a statement may run and the bodies to judge with it."""

    functions: list[str] = field(default_factory=list)
    """Stored functions found, ``schema.name`` as the target spells them."""
    procedures: list[str] = field(default_factory=list)
    """Procedures called from inside looked-up bodies, ``schema.name``."""
    triggers: list[str] = field(default_factory=list)
    """Triggers on the tables the statement (or a looked-up body) writes, ``schema.name``."""
    views: list[str] = field(default_factory=list)
    """Views the statement (or a looked-up body) reads, ``schema.name``."""
    bodies: list[Body] = field(default_factory=list)
    """Each body, under its own sql_mode (the statement's own CALLs first)."""


def look_up(s: MySQLSession, runs: list[Classification], calls: list[str]) -> Lookup:
    """The bodies of the procedures ``calls``, of the stored functions called by the
    statements in ``runs`` and of the triggers on the tables they write, then, level by
    level, of the routines and triggers those bodies reach: an unqualified name inside a
    body is looked up in that routine's own database, as the server resolves it. Each
    routine is read once; past :data:`MAX_LEVELS` levels or :data:`MAX_ROUTINES` routines
    the statement is refused (:class:`RoutineUnreadable`), as it is when a body cannot be
    read or lexed."""
    out = Lookup()
    seen: set[str] = set()
    level = [(c, s.schema) for c in runs]
    read_views = _named_views(s, level, seen, out)
    if not calls and not read_views and not any(_may_reach_code(c) for c in runs):
        return out  # most statements: nothing to look up, and no need to find out at length
    procedures = [(name, s.schema) for name in calls]
    for depth in range(MAX_LEVELS + 1):
        bodies = _procedure_bodies(s, procedures, seen, out if depth else None)
        bodies += read_views if depth == 0 else _named_views(s, level, seen, out)
        bodies += _called_functions(s, level, seen, out)
        bodies += _fired_triggers(s, level, seen, out)
        if not bodies:
            return out
        if depth == MAX_LEVELS or len(seen) > MAX_ROUTINES:
            break
        out.bodies += [body for _, body in bodies]
        level = [(classify(b.text, no_backslash_escapes=b.no_backslash_escapes, ansi_quotes=b.ansi_quotes), home)
                 for home, b in bodies]
        procedures = [(name, home) for c, home in level for name in called(c)]
    raise RoutineUnreadable(f"routines call routines more than {MAX_LEVELS} levels or {MAX_ROUTINES} routines "
                            "deep, so the statement is refused")


def _qualified(name: str, home: str) -> str:
    schema, _, routine = name.rpartition(".")
    return f"{schema or home}.{routine}" if schema or home else routine


def _procedure_bodies(s: MySQLSession, procedures: list[tuple[str, str]], seen: set[str],
                      out: Lookup | None) -> list[tuple[str, Body]]:  # fmt: skip
    """``(home schema, body)`` of each procedure not read yet (``out``: record its name)."""
    bodies = []
    for name, home in procedures:
        qualified = _qualified(name, home)
        if f"p:{qualified.lower()}" in seen:
            continue
        seen.add(f"p:{qualified.lower()}")
        if out is not None:
            out.procedures.append(qualified)
        bodies.append((qualified.rpartition(".")[0], body_statement(s, qualified)))
    return bodies


def _called_functions(s: MySQLSession, level: list[tuple[Classification, str]], seen: set[str],
                      out: Lookup) -> list[tuple[str, Body]]:  # fmt: skip
    """``(home schema, body)`` of each stored function the statements of ``level`` call,
    not read yet; the names found go to ``out.functions``."""
    wanted: dict[str, None] = {}
    for c, home in level:
        for name in candidates([c]):
            qualified = _qualified(name, home)
            if "." in qualified and f"f:{qualified.lower()}" not in seen:  # no database: no function
                wanted[qualified] = None
                seen.add(f"f:{qualified.lower()}")
    names, bodies = function_bodies(s, tuple(wanted))
    out.functions += names
    return [(name.rpartition(".")[0], body) for name, body in zip(names, bodies, strict=True)]


def _fired_triggers(s: MySQLSession, level: list[tuple[Classification, str]], seen: set[str],
                    out: Lookup) -> list[tuple[str, Body]]:  # fmt: skip
    """``(home schema, body)`` of each trigger (plugins.mysql.triggers) on a table the
    statements of ``level`` write, not read yet; the names found go to ``out.triggers``."""
    if any(st.kind is Kind.DDL for c, _ in level for st in c.effective):
        s.trigger_cache.clear()  # CREATE/DROP TRIGGER, ALTER/RENAME/DROP TABLE: read them again
        s.view_cache.clear()
        s.code_epoch += 1
    return _read(s, triggers.fired, level, seen, s.trigger_cache, out.triggers)


Reader = Callable[[triggers.Query, list[tuple[Classification, str]], set[str], triggers.Cache, float],
                  list[tuple[str, str, Body]]]


def _read(s: MySQLSession, read: Reader, level: list[tuple[Classification, str]], seen: set[str],
          cache: triggers.Cache, names: list[str]) -> list[tuple[str, Body]]:  # fmt: skip
    """``(home schema, body)`` of what ``read`` (triggers.fired, views.named) finds for
    ``level`` through the session's connection and ``cache``; the ``schema.name`` of each
    goes to ``names``. A body that cannot be read refuses the statement."""
    try:
        found = read(lambda sql: run_query(s, sql), level, seen, cache, time.monotonic())
    except ValueError as exc:
        raise RoutineUnreadable(f"{exc}, so the statement is refused") from exc
    names += [f"{schema}.{name}" for schema, name, _ in found]
    return [(schema, body) for schema, _, body in found]


def _may_reach_code(c: Classification) -> bool:
    """Whether :func:`look_up` has anything to do for ``c``: stored code it may run, DDL
    (which forgets the session's triggers), or code it could not read (refused there)."""
    return "lex_error" in c.flags or runs_stored_code(c) or any(st.kind is Kind.DDL for st in c.effective)


def runs_stored_code(c: Classification) -> bool:
    """Whether ``c`` may run stored code: it calls a procedure, calls names that are not
    built-ins (stored functions), or writes a table (its triggers)."""
    return bool(called(c)) or any(st.functions or triggers.fires(st) for st in c.effective)


def _named_views(s: MySQLSession, level: list[tuple[Classification, str]], seen: set[str],
                 out: Lookup) -> list[tuple[str, Body]]:  # fmt: skip
    """``(home schema, body)`` of each view (plugins.mysql.views) a statement of ``level``
    names, not read yet; the names found go to ``out.views``."""
    return _read(s, views.named, level, seen, s.view_cache, out.views)


def candidates(runs: list[Classification]) -> tuple[str, ...]:
    """The stored-function candidates (policies.sql.functions) of every statement that
    runs in ``runs``, carried ones included; raises :class:`RoutineUnreadable` when one
    could not be lexed (its calls cannot be read)."""
    found: dict[str, None] = {}
    for c in runs:
        if "lex_error" in c.flags:
            raise RoutineUnreadable("the statement's function calls cannot be read, so it is refused")
        for st in c.effective:
            found.update(dict.fromkeys(st.functions))
    return tuple(found)


def function_bodies(s: MySQLSession, names: tuple[str, ...]) -> tuple[list[str], list[Body]]:
    """``(names, bodies)``: of the stored-function candidates ``names``, those the target
    holds (``schema.name``, as the target spells them) and, for each, its body under its
    own sql_mode; raises :class:`RoutineUnreadable` when a body cannot be read."""
    pairs = []
    for name in names:
        schema, _, routine = name.rpartition(".")
        if schema or s.schema:  # unqualified without a database: the server finds no function
            pairs.append(f"({hex_string(schema or s.schema)}, {hex_string(routine)})")
    if not pairs:
        return [], []
    rows = run_query(s, f"SELECT {raw('ROUTINE_SCHEMA', 'ROUTINE_NAME', 'ROUTINE_DEFINITION', 'SQL_MODE')}"
                        " FROM information_schema.ROUTINES"
                        " WHERE ROUTINE_TYPE = 'FUNCTION' AND (ROUTINE_SCHEMA, ROUTINE_NAME) IN ("
                        + ", ".join(pairs) + ")")
    found, bodies = [], []
    for schema_b, name_b, body, sql_mode in rows:
        name = ".".join((v or b"").decode("utf-8", "surrogateescape") for v in (schema_b, name_b))
        if body is None:
            raise RoutineUnreadable(f"{name}(): the function's body cannot be read by the bastion, so it is refused")
        found.append(name)
        bodies.append(Body.read(body, sql_mode))
    return found, bodies


LOOKUP_LIMIT = " LIMIT 18446744073709551615"
"""Every lookup's own LIMIT: the session's ``sql_select_limit`` (``SET sql_select_limit = 0``)
caps a SELECT without one, and would hide the triggers, views and functions found."""


def run_query(s: MySQLSession, sql: str) -> list[list[bytes | None]]:
    """Run a read-only lookup (one SELECT or UNION, no LIMIT of its own) on the session's
    upstream connection (between the client's commands) and return all its text rows,
    whatever the session set: see :data:`LOOKUP_LIMIT`; text columns are read cast to
    binary (plugins.mysql.literals.raw), so ``character_set_results`` changes nothing."""
    conn = s.upstream.conn
    conn.send(bytes([COM_QUERY]) + (sql + LOOKUP_LIMIT).encode("utf-8"), 0)
    tracker = ResponseTracker(COM_QUERY, s.upstream.caps)
    rows: list[list[bytes | None]] = []
    error = ""
    while not tracker.done:
        _seq, payload = conn.read(READ_TIMEOUT)
        item = tracker.feed(payload)
        if type(item) is RowItem:
            rows.append(parse_text_row(payload, len(tracker.columns)))
        elif isinstance(item, ErrItem):
            error = f"{item.err.code} {item.err.message}"
    if error:
        raise RoutineUnreadable(f"reading the routine failed: {error}")
    return rows
