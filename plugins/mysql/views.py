"""Views are stored queries: a statement that reads a view is judged with its definition.

The server reports a view's columns under the view's name (``org_table`` is the view),
so masking by column origin cannot find a masked column a view passes on, and a view
that computes on one (``CREATE VIEW v AS SELECT REVERSE(card_number) …``) hides it from
the value recognizers too. A view created through the bastion was judged at ``CREATE
VIEW`` (a ``wrapped_columns`` rule refuses one over the columns it names); one created
before the bastion, or directly on the target, was not. So for the tables a statement
names, the bastion reads ``information_schema.VIEWS`` through the session's own
connection, one UNION of single-table SELECTs per statement as for triggers
(plugins.mysql.triggers: the server opens only those tables' files), each table's answer
kept :data:`~plugins.mysql.triggers.TTL` seconds per session, and judges each view's
definition with the statement as a derived table: every column the view selects counts
as wrapped (``SELECT * FROM (<definition>) AS bastion_view``), since its values reach the
result under the view's name. Views over views are followed level by level
(:func:`plugins.mysql.routines.look_up`). A name is tried as the classifier spells it
(lower case) and as the statement wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable

from plugins.mysql.bodies import Body
from plugins.mysql.literals import raw
from plugins.mysql.triggers import Cache, Query, Source, cached_rows, spellings
from policies.sql import Classification

VIEWS = Source("VIEWS", "TABLE_SCHEMA", "TABLE_NAME", raw("TABLE_SCHEMA", "TABLE_NAME", "VIEW_DEFINITION"))


def named(query: Query, level: Iterable[tuple[Classification, str]], seen: set[str], cache: Cache,
          now: float) -> list[tuple[str, str, Body]]:  # fmt: skip
    """``(database, view, body)`` of each view not in ``seen`` (added there) that a
    statement of ``level`` names, its body the definition as a derived table; raises
    ``ValueError`` when a definition cannot be read."""
    pairs: set[tuple[str, str]] = set()
    for c, home in level:
        for st in c.effective:
            for table in st.tables:
                pairs |= spellings(table, st.text, home)
    if not pairs:
        return []
    out = []
    for schema_b, name_b, definition_b in cached_rows(query, VIEWS, pairs, cache, now):
        schema, name = ((v or b"").decode("utf-8", "surrogateescape") for v in (schema_b, name_b))
        key = f"v:{schema.lower()}.{name.lower()}"
        if key in seen:
            continue
        seen.add(key)
        if not definition_b:  # NULL, or empty: the account may not see it (no SHOW VIEW privilege)
            raise ValueError(f"view {schema}.{name}: its definition cannot be read by the bastion")
        definition = definition_b.decode("utf-8", "surrogateescape")
        out.append((schema, name, Body(f"SELECT * FROM ({definition}) AS bastion_view")))
    return out
