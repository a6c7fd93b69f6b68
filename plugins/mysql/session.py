"""Per-connection state of a MySQL session and its audit trail."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bastion.config.model import ListenerConfig
from bastion.context import PluginContext
from bastion.core.contracts import AuditEvent, redact
from bastion.core.types import Decision, Event, Session, Verdict
from plugins.mysql.driver import PacketConn
from plugins.mysql.upstream import Upstream

log = logging.getLogger("bastion.mysql")


def printable(value: Any) -> Any:
    """Audit data as valid Unicode. Wire text is decoded with ``surrogateescape``, so bytes
    that were not UTF-8 (a client's garbage, a latin1 literal) are lone surrogates, which
    JSON-to-SQLite/OpenSearch sinks reject; they become ``\\xNN`` escapes here."""
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            try:
                return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            except UnicodeEncodeError:
                return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    return value


@dataclass
class MySQLSession:
    ctx: PluginContext
    listener: ListenerConfig
    session: Session
    client: PacketConn
    upstream: Upstream
    caps: int
    """Capabilities in effect on the client leg."""
    connection_id: int
    schema: str = ""
    no_backslash_escapes: bool = False
    ansi_quotes: bool = False
    in_transaction: bool = False
    statements: dict[int, Any] = field(default_factory=dict)
    """stmt_id -> relay.Prepared for statements whose PREPARE was allowed."""
    last_prepared: int | None = None
    commands: int = 0
    fast_lane: int = 0
    """Responses relayed whole by plugins.mysql.fastlane."""

    def hold(self, event: Event, decision: Decision) -> Decision:
        """Resolve a REVIEW: wait for approvers if an approval broker runs, else deny."""
        broker = self.ctx.services.get("approvals")
        if broker is None:
            return Decision.deny(rule=decision.rule, reason="review required but no approval service runs",
                                 message="this statement needs an approval, which is not available here")
        from plugins.mysql.kills import REGISTRY

        REGISTRY.holding(self.connection_id, True)
        try:
            result: Decision = broker.hold(event, decision, cancelled=lambda: REGISTRY.cancelled(self.connection_id))
        finally:
            REGISTRY.holding(self.connection_id, False)
        if result.verdict is Verdict.ALLOW and self.client.peer_gone():
            # The user gave up while waiting: never run an approved write for nobody.
            return Decision.deny(rule=decision.rule, reason="client left before the approval arrived")
        return result

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """Mask sensitive values in text bound for the audit trail."""
        return redact(self.ctx.maskers, self.session, text)

    def emit(self, type_: str, data: dict[str, Any]) -> bool:
        """Record an audit event; True if the audit trail wrote it (PluginContext.emit)."""
        return self.ctx.emit(AuditEvent(type=type_, session_id=self.session.id, at=time.time(), data=printable(data)))

    def audit_decision(self, event: Event, decision: Decision, audit: tuple[Decision, ...]) -> None:
        if decision.verdict is not Verdict.ALLOW or audit:
            log.info("statement %s", decision.verdict.name.lower(),
                     extra={"session_id": self.session.id, "event_id": event.id, "rule": decision.rule})

    def announce(self, event_id: str, sql: str, command: str) -> tuple[str, dict[str, int]] | None:
        """Record that an allowed statement is about to run (``query.start``) before it is
        sent upstream, so a statement never runs without a durable record even if the
        bastion dies before its reply. Returns the masked text (for the outcome record), or
        None if the audit trail could not write it: the statement must not run."""
        masked = self.redact(sql)
        written = self.emit("query.start", {"event_id": event_id, "protocol": "mysql", "command": command,
                                            "statement": masked[0], "schema": self.schema})
        return masked if written else None

    def audit_statement(self, event_id: str, sql: str, command: str, decision: Decision,
                        started: float, result: Any = None, audit: tuple[Decision, ...] = (),
                        masked: tuple[str, dict[str, int]] | None = None) -> None:
        text, found = masked or self.redact(sql)
        data: dict[str, Any] = {
            "event_id": event_id, "protocol": "mysql", "command": command, "statement": text,
            "schema": self.schema, "verdict": decision.verdict.name.lower(), "rule": decision.rule,
            "reason": decision.reason, "duration_ms": round((time.time() - started) * 1000, 3),
            "would": [d.rule for d in audit],
        }
        if found:
            data["statement_masked"] = found
        if result is not None:
            data.update(rows=result.rows, bytes=result.bytes, columns=result.columns, results=result.results,
                        affected=result.affected, error=result.error, masked=dict(result.masked))
        self.emit("query", data)
