"""Views are stored queries: a statement that reads a view is judged with its definition.

The server reports a view's columns under the view's name (``org_table`` is the view),
so masking by column origin cannot find a masked column a view passes on, and a view
that computes on one (``CREATE VIEW v AS SELECT REVERSE(card_number) …``) hides it from
the value recognizers too. A view created through the bastion was judged at ``CREATE
VIEW`` (a ``wrapped_columns`` rule refuses one over the columns it names); one created
before the bastion, or directly on the target, was not. So for each table a statement
names, the bastion checks whether it is a view (``information_schema.VIEWS``, read per
database through the session's own connection and kept :data:`TTL` seconds) and judges
the view's definition with the statement, as a derived table: every column the view
selects counts as wrapped (``SELECT * FROM (<definition>) AS v``), since its values reach
the result under the view's name. Views over views are followed level by level
(:func:`plugins.mysql.routines.look_up`).

Names: the classifier spells tables in lower case; a view is matched whatever the case of
its name (over-approximation: ``V`` and ``v`` are both judged), in the session's database
or the one the statement names, also as the statement wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from plugins.mysql.bodies import Body
from plugins.mysql.literals import hex_string, raw
from plugins.mysql.triggers import TTL, spellings
from policies.sql import Classification

Query = Callable[[str], list[list[bytes | None]]]
Cache = dict[str, tuple[float, dict[str, list[tuple[str, str]]]]]
"""Database -> when its views were read, and lower-case view name -> ``(name, definition)``."""
MAX_CACHED = 256


def _schema_views(query: Query, schema: str, cache: Cache, now: float) -> dict[str, list[tuple[str, str]]]:
    hit = cache.get(schema)
    if hit is not None and now - hit[0] < TTL:
        return hit[1]
    views: dict[str, list[tuple[str, str]]] = {}
    for name_b, definition_b in query(f"SELECT {raw('TABLE_NAME', 'VIEW_DEFINITION')} FROM information_schema.VIEWS"
                                      f" WHERE TABLE_SCHEMA = {hex_string(schema)}"):
        name = (name_b or b"").decode("utf-8", "surrogateescape")
        if definition_b is None:
            raise ValueError(f"view {schema}.{name}: its definition cannot be read by the bastion")
        views.setdefault(name.lower(), []).append((name, definition_b.decode("utf-8", "surrogateescape")))
    if len(cache) >= MAX_CACHED:
        cache.clear()
    cache[schema] = (now, views)
    return views


def _candidates(table: str, text: str, home: str) -> set[tuple[str, str]]:
    """``(database, lower-case name)`` pairs ``table`` may name: an unqualified name is in
    ``home`` (spelled as the server knows it); a qualified one as written and in lower case."""
    schema, _, name = table.rpartition(".")
    if not schema:
        return {(home, name)} if home else set()
    return {(db, tbl.lower()) for db, tbl in spellings(table, text, home)}


def named(query: Query, level: Iterable[tuple[Classification, str]], seen: set[str], cache: Cache,
          now: float) -> list[tuple[str, str, Body]]:  # fmt: skip
    """``(database, view, body)`` of each view not in ``seen`` (added there) that a
    statement of ``level`` names, its body the definition as a derived table; raises
    ``ValueError`` when a definition cannot be read."""
    out = []
    for c, home in level:
        for st in c.effective:
            for table in st.tables:
                for schema, lower in _candidates(table, st.text, home):
                    for name, definition in _schema_views(query, schema, cache, now).get(lower, ()):
                        key = f"v:{schema.lower()}.{name.lower()}"
                        if key not in seen:
                            seen.add(key)
                            out.append((schema, name, Body(f"SELECT * FROM ({definition}) AS bastion_view")))
    return out
