"""Plugin contracts: the bastion's "hookspec" module.

Each :class:`typing.Protocol` below is the spec of one entry-point group. The registry
loads every entry point of a group and checks it against its Protocol at start-up, so a
broken plugin stops the bastion before it serves anyone (never mid-session).

===================  ==================================  ===========================
entry-point group    contract                            example
===================  ==================================  ===========================
bastion.protocols    :class:`ProtocolPlugin`             ``mysql = plugins.mysql:plugin``
bastion.policies     :class:`PolicyFactory`              ``access = policies.access:AccessPolicy``
bastion.maskers      :class:`MaskerFactory`              ``rules = policies.masking:RuleMasker``
bastion.sinks        :class:`SinkFactory`                ``journal = bastion.audit.journal:JournalSink``
===================  ==================================  ===========================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bastion.core.types import Decision, Event, Session

# Factories and plugins receive the runtime's plugin context (bastion.context.PluginContext).
# The core names it only as ``Any``: it must not depend on the state store or the config.
Context = Any


@runtime_checkable
class PolicyStage(Protocol):
    """One stage of the enforcement pipeline.

    ``decide`` returns a :class:`Decision`, or ``None`` to abstain. It must be pure and
    fast (it runs on the gevent hub for every statement); an exception is turned into a
    DENY by the pipeline.

    A stage that classifies SQL statements (``policies.sql.classify``) says so with a
    class attribute ``classifies_sql = True``: the MySQL plugin then classifies every
    statement fully itself (the stage finds it cached) instead of taking its shortcut for
    statements known to do nothing the session must follow (plugins.mysql.sqlstate).
    """

    name: str

    def decide(self, event: Event) -> Decision | None: ...


PolicyFactory = Callable[[Context], PolicyStage]
"""A ``bastion.policies`` entry point: called once at start-up with the plugin context."""


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """What a masker needs to know about one result column."""

    schema: str
    table: str
    org_table: str
    name: str
    org_name: str
    is_text: bool
    """True for string-typed columns whose values may be rewritten in place."""
    length: int = 0


RowBatch = dict[int, list[bytes | None]]
"""Column index -> that column's values in a batch of consecutive rows of one result set,
in row order (``None`` for SQL NULL); every list has one entry per row of the batch."""


@dataclass(slots=True)
class RowMasker:
    """A plan made once per result set: which columns to rewrite, and how.

    ``columns`` are the indexes of the columns it rewrites. ``mask(batch)`` takes a
    :data:`RowBatch` holding (at least) those columns and replaces, in place, each value
    by its masked form: a NULL stays ``None``, a value with nothing to mask stays the
    *same* object, and other columns' lists are left alone. A batch is whatever run of
    rows the caller has at hand (one row, or many): a value's masked form must not depend
    on which other rows came with it, so a masker may scan a whole batch at once.
    ``counts`` accumulates ``"<recognizer>:<column>" -> n`` for the audit trail (never the
    values themselves).
    """

    columns: frozenset[int]
    mask: Callable[[RowBatch], None]
    counts: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.columns)


@runtime_checkable
class Masker(Protocol):
    """Plans masking for a result set (``plan`` runs once per column-definition set)."""

    name: str

    def plan(self, session: Session, columns: Sequence[ColumnInfo]) -> RowMasker | None: ...

    def mask_text(self, session: Session, text: str) -> tuple[str, dict[str, int]]:
        """Mask every sensitive value in text bound for storage (journal, index, recordings,
        logs, approval requests) — regardless of who may see clear values live."""
        ...

    def mask_output(self, session: Session, text: str) -> tuple[str, dict[str, int]]:
        """Mask protocol output shown live to this session's user (rules in scope only)."""
        ...

    def masks_output(self, session: Session) -> bool:
        """Whether ``mask_output`` can change anything for this session (lets streams skip it)."""
        ...


MaskerFactory = Callable[[Context], Masker]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One record of the audit trail, in the versioned schema (``schema``)."""

    type: str
    """``session.start``, ``session.end``, ``auth``, ``query``, ``command``, ``fileop``…"""
    session_id: str
    at: float
    data: Mapping[str, Any]
    id: str = ""
    schema: int = 2
    """2: each prepared-statement execution has ``query.start``/``query`` records with its
    parameters (1 summarised executions in ``execute`` records)."""


@runtime_checkable
class Sink(Protocol):
    """Receives audit events. ``emit`` must not block the data path for long; it raises
    when it could not take the event.

    ``required``: the sink is the audit's source of truth (the journal); while it fails,
    the runtime denies every new session and request (``bastion.context.AuditGate``), and
    a request whose start record it did not write never runs (``bastion.guard.Guard``).
    ``close_orphans`` runs once at start-up, before any listener accepts: it records the
    end of whatever a killed predecessor left open (sessions, requests that were running).
    """

    name: str
    required: bool

    def emit(self, event: AuditEvent) -> None: ...

    def close_orphans(self) -> None: ...

    def close(self) -> None: ...


SinkFactory = Callable[[Context], Sink]


@runtime_checkable
class ProtocolPlugin(Protocol):
    """A protocol the bastion terminates (``mysql``, ``ssh``).

    ``validate_target`` and ``validate_listener`` check a target's and the listener's
    protocol options at start-up and return error messages (empty when valid).
    ``prepare`` runs once before the listener accepts (host keys, TLS contexts). ``serve``
    is called by the runtime in the connection's own greenlet with the accepted socket;
    it owns the connection until it returns and must never raise for client misbehaviour
    (log, close, return). Every request it judges goes through ``bastion.guard.Guard``.
    """

    name: str
    default_port: int

    def validate_target(self, options: Mapping[str, Any]) -> list[str]: ...

    def validate_listener(self, options: Mapping[str, Any]) -> list[str]: ...

    def prepare(self, ctx: Context) -> None: ...

    def serve(self, sock: Any, address: tuple[str, int], ctx: Context) -> None: ...
