"""Triggers fire on the statements that write their table: their bodies are judged with them.

A trigger created through the bastion had its body judged at ``CREATE TRIGGER``; one
created before the bastion, directly on the target, or replaced since, was not, and it
runs inside every INSERT, UPDATE, DELETE, REPLACE or LOAD on its table. So for each
statement that writes a table, the bastion reads the triggers the target holds on the
tables it names (``information_schema.TRIGGERS``, through the session's own upstream
connection, just before the statement) and judges their bodies with it: a trigger that
deletes rows makes ``INSERT INTO t …`` wait for an approver, one that drops (through a
procedure it calls) is refused. What a trigger body writes or calls is looked up in turn
(:func:`plugins.mysql.routines.look_up`).

Over-approximation is deliberate: the tables a writing statement names include those it
only reads (``INSERT INTO t SELECT … FROM u`` looks up the triggers of ``u`` too), and a
name is tried both as the classifier spells it (lower case) and as the statement wrote it,
since table names are case-sensitive on most servers. The bastion's target account sees
only the triggers of tables it holds the ``TRIGGER`` privilege on (MariaDB hides the others
from ``information_schema``): grant it, or such triggers run unjudged (docs/policies.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from plugins.mysql.bodies import Body
from plugins.mysql.literals import hex_string, raw
from policies.sql import Classification, Statement
from policies.sql.kinds import Kind

FIRING = frozenset({"INSERT", "REPLACE", "UPDATE", "DELETE", "LOAD DATA", "LOAD XML"})
"""Keywords of the statements that make a table's triggers fire (``WITH … UPDATE`` too)."""

Query = Callable[[str], list[list[bytes | None]]]
Cache = dict[tuple[str, str], tuple[float, list[list[bytes | None]]]]
"""``(schema, table)`` -> when its triggers were read, and their rows (one per session)."""
TTL = 2.0
"""How long a session trusts the triggers it read for a table. A trigger created behind
the bastion's back fires unjudged for at most this long in a session that wrote the table
just before; the session's own DDL forgets them at once. Without it every write paid one
more round trip, and the server a trigger-file read (bench/mysql.py --workload
update_index: half the write rate)."""
MAX_CACHED = 1024
_COLUMNS = raw("TRIGGER_SCHEMA", "TRIGGER_NAME", "ACTION_STATEMENT", "SQL_MODE")


def fires(st: Statement) -> bool:
    """Whether ``st`` writes rows of the tables it names (so their triggers fire)."""
    return st.keyword in FIRING or (st.keyword == "WITH" and st.kind is Kind.WRITE)


def spellings(table: str, text: str, home: str) -> set[tuple[str, str]]:
    """``(schema, table)`` pairs to look ``table`` (lower case, maybe ``schema.table``) up
    under: the classifier's spelling, and each way the statement's ``text`` writes it."""
    schema, _, name = table.rpartition(".")
    out = {(schema or home, name)} if schema or home else set()
    if not schema and text.count(name) == text.lower().count(name):
        # every occurrence is already in lower case (the common case): no other spelling
        return out
    parts = [p for p in (schema, name) if p]
    pattern = r"\s*\.\s*".join(f"`?({re.escape(p)})`?" for p in parts)
    pattern = rf"(?<![\w$]){pattern}(?![\w$])"  # whole names only
    for m in re.finditer(pattern, text, re.IGNORECASE):
        written = m.groups()
        if len(written) == 2:
            out.add((written[0], written[1]))
        elif home:
            out.add((home, written[0]))
    return out


def targets(level: Iterable[tuple[Classification, str]]) -> set[tuple[str, str]]:
    """Every ``(schema, table)`` spelling written by a statement of ``level`` (each
    classification with the database its unqualified names resolve in)."""
    out: set[tuple[str, str]] = set()
    for c, home in level:
        for st in c.effective:
            if fires(st):
                for table in st.tables:
                    out |= spellings(table, st.text, home)
    return out


@dataclass(frozen=True, slots=True)
class Source:
    """An ``information_schema`` table read per ``(schema, table)`` pair."""

    table: str
    schema_column: str
    table_column: str
    columns: str
    """The select list (text columns cast to binary: plugins.mysql.literals.raw)."""

    def sql(self, pairs: list[tuple[str, str]]) -> str:
        """One query for ``pairs``: a UNION of single-table SELECTs, each of which MariaDB
        answers by reading that one table's files, not every table's. Each row starts with
        the index of its pair in ``pairs``."""
        return " UNION ALL ".join(
            f"SELECT {k}, {self.columns} FROM information_schema.{self.table}"
            f" WHERE {self.schema_column} = {hex_string(schema)} AND {self.table_column} = {hex_string(table)}"
            for k, (schema, table) in enumerate(pairs))


TRIGGERS = Source("TRIGGERS", "EVENT_OBJECT_SCHEMA", "EVENT_OBJECT_TABLE", _COLUMNS)


def lookup_sql(pairs: list[tuple[str, str]]) -> str:
    """The query for the triggers on ``pairs`` (:meth:`Source.sql`)."""
    return TRIGGERS.sql(pairs)


def cached_rows(query: Query, source: Source, pairs: set[tuple[str, str]], cache: Cache | None,
                now: float) -> list[list[bytes | None]]:  # fmt: skip
    """The rows of ``source`` for ``pairs``: fresh ones from ``cache`` (kept :data:`TTL`
    seconds), the others looked up in one query (and cached)."""
    rows: list[list[bytes | None]] = []
    missing = []
    for pair in sorted(pairs):
        hit = cache.get(pair) if cache is not None else None
        if hit is not None and now - hit[0] < TTL:
            rows += hit[1]
        else:
            missing.append(pair)
    if not missing:
        return rows
    found: list[list[list[bytes | None]]] = [[] for _ in missing]
    for row in query(source.sql(missing)):
        found[int(row[0] or b"0")].append(row[1:])
    for pair, pair_rows in zip(missing, found, strict=True):
        rows += pair_rows
        if cache is not None:
            if len(cache) >= MAX_CACHED:
                cache.clear()
            cache[pair] = (now, pair_rows)
    return rows


def fired(query: Query, level: list[tuple[Classification, str]], seen: set[str], cache: Cache | None = None,
          now: float = 0.0) -> list[tuple[str, str, Body]]:  # fmt: skip
    """``(schema, trigger, body)`` of each trigger not in ``seen`` (added there) on a table
    a statement of ``level`` writes, each body under the sql_mode it was created with.
    ``query`` runs a lookup on the upstream connection and returns its text rows; ``cache``
    keeps each table's triggers for :data:`TTL` seconds (``now``: ``time.monotonic()``);
    raises ``ValueError`` when a body cannot be read."""
    pairs = targets(level)
    if not pairs:
        return []
    out = []
    for schema_b, name_b, body_b, sql_mode in cached_rows(query, TRIGGERS, pairs, cache, now):
        schema, name = ((v or b"").decode("utf-8", "surrogateescape") for v in (schema_b, name_b))
        key = f"t:{schema.lower()}.{name.lower()}"
        if key in seen:
            continue
        seen.add(key)
        if body_b is None:
            raise ValueError(f"trigger {schema}.{name}: its body cannot be read by the bastion")
        out.append((schema, name, Body.read(body_b, sql_mode)))
    return out
