"""The classifier's verdict: :class:`Statement` (one statement, with those it carries)
and :class:`Classification` (one COM_QUERY payload)."""

from __future__ import annotations

from dataclasses import dataclass

from policies.sql.effects import Assignment
from policies.sql.kinds import Kind


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement after splitting; ``text`` is normalized code (literals kept).

    ``kind``, ``flags`` and ``tables`` include those of the statements it carries
    (``inner``); ``wrapped_columns`` may hold ``"*"`` (any column: ``PROCEDURE ANALYSE``
    over ``*``, or no AST for a large statement) which every ``wrapped_columns`` glob matches.
    """

    kind: Kind
    keyword: str
    text: str
    tables: frozenset[str]
    columns: frozenset[str] = frozenset()
    wrapped_columns: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    kill_id: int | None = None  # KILL <n>: n when a plain integer, else None (deny then)
    kill_query: bool = False  # KILL QUERY (vs connection)
    use_db: str | None = None  # USE <db>, unquoted, case kept
    inner: tuple[Statement, ...] = ()
    """Statements this one carries (see the module docstring), in execution order."""
    assignments: tuple[Assignment, ...] = ()
    """SET: session variables assigned, ``(name, value)`` (policies.sql.effects); for
    ``SET STATEMENT … FOR`` they hold for the carried statement only."""
    prepared_name: str | None = None
    """PREPARE / EXECUTE / DEALLOCATE PREPARE / DROP PREPARE: the name, lower-cased."""
    routine: str | None = None
    """CALL: the routine, ``schema.name`` when qualified, unquoted, case kept."""
    object_name: str | None = None
    """CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT, ALTER EVENT: the object, as ``routine``."""
    trigger_table: str | None = None
    """CREATE TRIGGER: the table it fires on, as ``routine``."""
    functions: tuple[str, ...] = ()
    """Names written as a call in its own code, stored-function candidates
    (policies.sql.functions); those of carried statements are on them."""


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict for one COM_QUERY payload (possibly several statements)."""

    statements: tuple[Statement, ...]
    kind: Kind
    flags: frozenset[str]
    tables: frozenset[str]
    fingerprint: str
    digest_text: str
    error: str = ""

    @property
    def effective(self) -> tuple[Statement, ...]:
        """Every statement that will execute: each outer one, then what it carries, depth first."""
        return flatten(self.statements)


def flatten(statements: tuple[Statement, ...]) -> tuple[Statement, ...]:
    """``statements`` and, after each, its ``inner`` statements recursively (pre-order)."""
    if not any(st.inner for st in statements):
        return statements  # the common case: nothing carried
    out: list[Statement] = []
    stack = list(reversed(statements))
    while stack:
        st = stack.pop()
        out.append(st)
        stack.extend(reversed(st.inner))
    return tuple(out)
