"""Per-connection state of a MySQL session: the session itself, its prepared statements,
and the summary of one response."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bastion.core.types import Decision, Event, Verdict
from bastion.guard import Admission
from bastion.session import BaseSession
from plugins.mysql.bodies import Body
from plugins.mysql.codec import ColumnDef
from plugins.mysql.connections import REGISTRY
from plugins.mysql.executions import Tally
from plugins.mysql.masking import PlanCache
from plugins.mysql.options import MySQLOptions
from plugins.mysql.packetconn import Conn
from plugins.mysql.routines import Lookup
from plugins.mysql.upstream import Upstream
from policies.sql import Classification
from policies.sql.redact import redact_literals


@dataclass
class Prepared:
    """A statement the client prepared; its PREPARE's admission covers its executions."""

    admission: Admission
    types: list[int] = field(default_factory=list)
    columns: list[ColumnDef] = field(default_factory=list)
    params: int = 0
    """How many parameters it takes (its COM_STMT_PREPARE_OK)."""
    param_types: tuple[tuple[int, bool], ...] = ()
    """``(type, unsigned)`` of its parameters as last bound (an execution may send none)."""
    long_data: dict[int, bytearray] = field(default_factory=dict)
    """Parameter index -> COM_STMT_SEND_LONG_DATA bytes since its last execution (the first
    bytes only: plugins.mysql.executions)."""
    long_sizes: dict[int, int] = field(default_factory=dict)
    """Parameter index -> how many long-data bytes were sent in all."""
    executions: int = 0
    tally: Tally | None = None
    """Cursor fetches not yet in the audit trail (plugins.mysql.executions)."""
    plans: PlanCache = field(default_factory=PlanCache)
    """The masking plan of its results, shared by the general path and the small-response lane."""
    sets_sql_mode: bool = False
    """Its executions may change the session's sql_mode: read it back after each one."""
    runs: Classification | None = None
    """The statement, when it may run stored code (calls, stored functions, triggers of the
    tables it writes, views it reads): its executions look that code up again
    (plugins.mysql.executions)."""
    bodies: frozenset[Body] = frozenset()
    """The bodies of that code as judged at PREPARE."""
    checked: tuple[int, float] = (-1, 0.0)
    """``(session code_epoch, time.monotonic())`` when that code was last found unchanged."""

    @property
    def event_id(self) -> str:
        return self.admission.event.id

    def pending(self) -> Tally:
        """The tally of executions not yet recorded (made on first use)."""
        if self.tally is None:
            self.tally = Tally(self.event_id)
        return self.tally


@dataclass
class Result:
    """Summary of one response, for the audit record."""

    rows: int = 0
    bytes: int = 0
    columns: list[str] = field(default_factory=list)
    results: int = 0
    affected: int = 0
    error: str = ""
    status: int = 0
    masked: dict[str, int] = field(default_factory=dict)
    prepared_id: int | None = None
    prepared_params: int = 0
    prepared_columns: list[ColumnDef] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """The fields of a ``query`` outcome record."""
        return {"rows": self.rows, "bytes": self.bytes, "columns": self.columns, "results": self.results,
                "affected": self.affected, "error": self.error, "masked": dict(self.masked)}


@dataclass(kw_only=True)
class MySQLSession(BaseSession):
    """One client connection in its command phase."""

    opts: MySQLOptions
    client: Conn
    upstream: Upstream
    caps: int
    """Capabilities in effect on the client leg."""
    connection_id: int
    """The id the client saw in the greeting (KILL and Ctrl-C name it)."""
    collation: int = 45
    """The client's collation (from the handshake, or its last COM_CHANGE_USER)."""
    schema: str = ""
    no_backslash_escapes: bool = False
    ansi_quotes: bool = False
    in_transaction: bool = False
    statements: dict[int, Prepared] = field(default_factory=dict)
    """stmt_id -> statements whose PREPARE was admitted."""
    last_prepared: int | None = None
    commands: int = 0
    fast_lane: int = 0
    """Responses to COM_STMT_EXECUTE relayed whole by plugins.mysql.small_response."""
    fast_lane_queries: int = 0
    """Responses to COM_QUERY relayed whole by plugins.mysql.small_response."""
    results_binary: bool = False
    """Results may come in the binary charset: masking cannot tell text columns by their
    definitions, so it treats every string column as text (plugins.mysql.sqlstate)."""
    sql_prepared: dict[str, tuple[str, bool] | None] = field(default_factory=dict)
    """SQL-level PREPARE name -> the statement it carries (None: not judgeable)."""
    query_plans: dict[str, PlanCache] = field(default_factory=dict)
    """COM_QUERY fingerprint -> masking plan of its results (plugins.mysql.commands)."""
    trigger_cache: dict[tuple[str, str], tuple[float, list[list[bytes | None]]]] = field(default_factory=dict)
    view_cache: dict[tuple[str, str], tuple[float, list[list[bytes | None]]]] = field(default_factory=dict)
    """``(schema, table)`` -> when its views were read, and their rows (plugins.mysql.views)."""
    code_epoch: int = 0
    """Bumped when the session's own DDL or a reset may have changed the stored code its
    prepared statements run (they look it up again at their next execution)."""
    column_names: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    """Result column names -> as recorded (:meth:`recorded_columns`)."""
    last_lookup: Lookup | None = None
    """The stored code the last admitted statement reaches (plugins.mysql.policy)."""
    """The triggers read for each table the session wrote (plugins.mysql.triggers)."""
    busy_payload: bytes | None = None
    """The command being served now (None: waiting for the next one), for the process list."""
    busy_since: float = 0.0
    idle_since: float = field(default_factory=time.time)

    text_field: ClassVar[str] = "statement"

    def hold(self, event: Event, decision: Decision, cancelled: Any = None) -> Decision:
        """A REVIEW waits for approvers; ``KILL`` of this connection (the CLI's Ctrl-C)
        cancels the wait, and an approval for a client that left meanwhile is void."""
        REGISTRY.holding(self.connection_id, True)
        try:
            result = super().hold(event, decision, lambda: REGISTRY.cancelled(self.connection_id))
        finally:
            REGISTRY.holding(self.connection_id, False)
        if result.verdict is Verdict.ALLOW and self.client.peer_gone():
            # The user gave up while waiting: never run an approved write for nobody.
            return Decision.deny(rule=decision.rule, reason="client left before the approval arrived")
        return result

    def recorded_columns(self, names: list[str]) -> list[str]:
        """Result column names (or keys naming them) as the audit trail may hold them: a
        name is the text of its expression, so ``SELECT 'AKIA…'`` names its column with the
        value itself. Kept per list of names (the same statements return the same columns)."""
        key = tuple(names)
        known = self.column_names.get(key)
        if known is None:
            if len(self.column_names) >= 256:
                self.column_names.clear()
            masked = self.redact("\n".join(names)).split("\n")
            known = self.column_names[key] = masked if len(masked) == len(names) else ["?"] * len(names)
        return known

    def redact_request(self, text: str, nbe: bool | None = None) -> dict[str, Any]:
        """A statement for the record and for approvers: only its literal values are masked,
        never the code around them (a value that looks like a key cannot hide ``OR 1=1``).
        Lexed under the session's quoting modes, or ``nbe`` (the NO_BACKSLASH_ESCAPES a
        text prepared earlier was parsed under)."""
        if not self.masks.maskers:  # nothing could be masked: no need to find the literals (a lexer pass)
            return {self.text_field: text}
        nbe, ansi = self.no_backslash_escapes if nbe is None else nbe, self.ansi_quotes
        return self._fields(text, lambda sql, mask: redact_literals(sql, mask, no_backslash_escapes=nbe,
                                                                    ansi_quotes=ansi))

    def interrupt(self) -> None:
        # Shut both legs down: whatever this session waits for (the client's next command,
        # the target's answer) ends at once, and the command loop tears down as for a client
        # that left, recording why.
        self.client.shutdown()
        self.upstream.conn.shutdown()

    def start_data(self) -> dict[str, Any]:
        return {**super().start_data(), "upstream_thread": self.upstream.thread_id, "upstream_tls": self.upstream.tls}

    def end_data(self) -> dict[str, Any]:
        return {"commands": self.commands, "fast_lane": self.fast_lane,
                "fast_lane_queries": self.fast_lane_queries, "bytes_in": self.client.bytes_in,
                "bytes_out": self.client.bytes_out}
