"""Per-connection state of an SSH session: judging events and writing the audit trail."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.context import PluginContext
from bastion.core.contracts import AuditEvent, redact
from bastion.core.types import Decision, Event, Session, Verdict
from plugins.ssh.carry import LiveStream
from plugins.ssh.options import SSHOptions

log = logging.getLogger("bastion.ssh")

DEFAULT_RULE = "pipeline:default"
"""The pipeline's answer when no stage spoke about a non-Connect event (see core/pipeline.py)."""


@dataclass
class SSHSession:
    """One authenticated client connection and everything recorded about it."""

    ctx: PluginContext
    opts: SSHOptions
    session: Session
    channels: int = 0
    commands: int = 0
    file_ops: int = 0
    forwards: int = 0
    denied: int = 0
    bytes_in: int = 0
    """Channel payload client → target, over all channels."""
    bytes_out: int = 0
    recordings: list[str] = field(default_factory=list)
    masked_output: dict[str, int] = field(default_factory=dict)
    """Values masked live in output, by recognizer (for session.end)."""
    last_activity: float = field(default_factory=time.monotonic)
    opened_at: float = field(default_factory=time.monotonic)
    upstream: Any = None
    """The lazily opened upstream link (``driver.UpstreamLink``), set by the plugin."""

    def touch(self) -> None:
        """Client traffic seen: the idle timer restarts."""
        self.last_activity = time.monotonic()

    def next_channel(self) -> int:
        self.channels += 1
        return self.channels

    def recording_path(self, channel: int) -> Path:
        return self.ctx.settings.state_dir / "recordings" / f"{self.session.id}-{channel}.cast"

    def emit(self, type_: str, data: dict[str, Any]) -> bool:
        """Record an audit event; True if the audit trail wrote it (PluginContext.emit)."""
        return self.ctx.emit(AuditEvent(type=type_, session_id=self.session.id, at=time.time(), data=data))

    def decide(self, event: Event, *, can_hold: bool = True,
               cancelled: Callable[[], bool] | None = None) -> tuple[Decision, tuple[Decision, ...]]:
        """The pipeline's verdict; a REVIEW is resolved by the approval broker (or denied).
        ``cancelled`` tells the broker the user gave up waiting (closed the channel)."""
        outcome = self.ctx.pipeline.decide(event)
        decision = outcome.decision
        if decision.verdict is Verdict.REVIEW:
            decision = self.hold(event, decision, cancelled) if can_hold else Decision.deny(
                rule=decision.rule, reason="review required but this request cannot wait for approval",
                message="this needs an approval, which is not possible for this kind of request")
        if decision.verdict is not Verdict.ALLOW:
            self.denied += 1
            log.info("%s denied", event.kind, extra={"session_id": self.session.id, "event_id": event.id,
                                                     "rule": decision.rule})
        return decision, outcome.audit

    def hold(self, event: Event, decision: Decision, cancelled: Callable[[], bool] | None = None) -> Decision:
        """Wait for approvers if an approval broker runs (only this greenlet waits), else deny."""
        broker = self.ctx.services.get("approvals")
        if broker is None:
            return Decision.deny(rule=decision.rule, reason="review required but no approval service runs",
                                 message="this needs an approval, which is not available here")
        log.info("%s held for review", event.kind, extra={"session_id": self.session.id, "event_id": event.id})
        result: Decision = broker.hold(event, decision, cancelled=cancelled)
        return result

    def live_masker(self) -> Callable[[bytes], bytes] | None:
        """Masking of one chunk shown to the user (masking rules in scope), or None if none
        apply. For data whose chunks must keep their length (SFTP reads); streams use
        :meth:`live_streams`."""
        mask = self._live_text_mask()
        if mask is None:
            return None
        return lambda data: mask(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def live_streams(self) -> Callable[[], LiveStream] | None:
        """A new live masker per output stream (values cut across SSH packets are masked
        whole), or None if no masking rule is in scope."""
        mask = self._live_text_mask()
        if mask is None:
            return None
        return lambda: LiveStream(mask)

    def _live_text_mask(self) -> Callable[[str], str] | None:
        maskers = [m for m in self.ctx.maskers if m.masks_output(self.session)]
        if not maskers:
            return None
        session = self.session
        counts = self.masked_output

        def mask(text: str) -> str:
            for masker in maskers:
                text, found = masker.mask_output(session, text)
                for key, n in found.items():
                    counts[key] = counts.get(key, 0) + n
            return text
        return mask

    def redact(self, text: str) -> str:
        """Mask sensitive values in text bound for the audit trail."""
        return redact(self.ctx.maskers, self.session, text)[0]

    @staticmethod
    def verdict_data(decision: Decision, audit: tuple[Decision, ...] = ()) -> dict[str, Any]:
        return {"verdict": decision.verdict.name.lower(), "rule": decision.rule, "reason": decision.reason,
                "would": [d.rule for d in audit]}

    def start_data(self) -> dict[str, Any]:
        s = self.session
        return {"protocol": "ssh", "user": s.identity.subject, "email": s.identity.email,
                "groups": sorted(s.identity.groups), "target": s.target.name, "account": s.account,
                "client_addr": s.client_addr, "reason": s.reason, **dict(s.protocol_info)}

    def count(self, bytes_in: int, bytes_out: int) -> None:
        self.bytes_in += bytes_in
        self.bytes_out += bytes_out

    def end_data(self, reason: str) -> dict[str, Any]:
        return {"reason": reason, "channels": self.channels, "commands": self.commands,
                "file_ops": self.file_ops, "forwards": self.forwards, "denied": self.denied,
                "recordings": list(self.recordings), "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
                "masked_output": dict(self.masked_output),
                "duration_s": round(time.time() - self.session.started_at, 3)}


def denial_text(what: str, decision: Decision, event: Event) -> str:
    """The message a user sees for a refused request (rule and event reference included)."""
    why = decision.message or decision.reason or "denied by policy"
    rule = f"rule {decision.rule}, " if decision.rule else ""
    return f"bastion: {what} denied: {why} ({rule}ref {event.id})"
