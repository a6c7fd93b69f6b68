"""The plugin context: everything a plugin may use, built once at start-up."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bastion.config.load import Settings
from bastion.config.model import ListenerConfig
from bastion.core.contracts import AuditEvent, Masker, Sink
from bastion.core.pipeline import Pipeline
from bastion.core.types import Decision, Event, Target, UpstreamTLS
from bastion.state.directory import LoginLinks, SSHKeys, UserDirectory
from bastion.state.store import StateStore
from bastion.state.tokens import TokenStore
from bastion.state.vault import Vault

if TYPE_CHECKING:
    from bastion.approvals import ApprovalBroker
    from bastion.runtime.liveness import Liveness
    from bastion.runtime.readiness import Readiness
    from bastion.state.throttle import LoginThrottle

log = logging.getLogger("bastion.audit")


@dataclass
class PluginContext:
    settings: Settings
    store: StateStore
    tokens: TokenStore
    vault: Vault
    pipeline: Pipeline = field(default_factory=lambda: Pipeline([]))
    sinks: Sequence[Sink] = ()
    maskers: Sequence[Masker] = ()
    approvals: ApprovalBroker | None = None
    """Holds REVIEW requests until approvers decide (None: a REVIEW is denied)."""
    open_sessions: Callable[[], int] | None = None
    """How many connections the listeners serve now (set by the runtime once it listens)."""
    audit_service: Any = None
    """The running audit service (indexer, retention) of ``bastion serve``."""
    audit_search: Any = None
    """The dashboard's search over the audit index (built on first use by the web app)."""
    liveness: Liveness | None = None
    """Open sessions registered for revocation (set by ``bastion serve``)."""
    throttle: LoginThrottle | None = None
    """Failed-login limits (per address and user, shared through the state store)."""
    audit_failure: str | None = None
    """Why the last event could not be written by a required sink (None: all is well)."""
    node: str = ""
    """This node's id in the state store (``server.node_id``, default the host name; set by
    the bootstrap): live sessions and connection ids are registered under it."""
    readiness: Readiness | None = None
    """Whether this node takes new connections (set by ``bastion serve``)."""

    @property
    def users(self) -> UserDirectory:
        return UserDirectory(self.store)

    @property
    def ssh_keys(self) -> SSHKeys:
        return SSHKeys(self.store)

    @property
    def login_links(self) -> LoginLinks:
        return LoginLinks(self.store)

    def target(self, name: str) -> Target | None:
        cfg = self.settings.config.target(name)
        if cfg is None:
            return None
        return Target(
            name=cfg.name, protocol=cfg.protocol, host=cfg.host, port=cfg.port, tags=frozenset(cfg.tags),
            tls=UpstreamTLS(mode=cfg.tls.mode, ca_file=cfg.tls.ca_file, server_name=cfg.tls.server_name),
            accounts=tuple(cfg.accounts), options=dict(cfg.options))

    def targets(self) -> list[Target]:
        return [t for t in (self.target(c.name) for c in self.settings.config.targets) if t is not None]

    def listener(self, name: str) -> ListenerConfig | None:
        return self.settings.config.listeners.get(name)

    def emit(self, event: AuditEvent) -> bool:
        """Send an audit event to every sink; True if every *required* sink wrote it. A
        failing sink is logged and never raises here; a failing required sink (the
        journal: ``required = True``) also sets :attr:`audit_failure`, which makes
        :class:`AuditGate` deny every decision until a later event is written again (fail
        closed: nothing new runs unrecorded). Callers that must not go on unless *this*
        event is on record use the result: the flag may already be cleared by another
        session's write (a sink can yield to other greenlets)."""
        written = True
        for sink in self.sinks:
            try:
                sink.emit(event)
            except Exception as exc:  # noqa: BLE001
                log.exception("audit sink %s failed on %s", sink.name, event.type)
                if sink.required:
                    written = False
                    if self.audit_failure is None:
                        log.critical("audit trail unavailable: refusing every new session and statement")
                    self.audit_failure = f"{sink.name}: {type(exc).__name__}: {exc}"
            else:
                if self.audit_failure is not None and sink.required:
                    log.warning("audit trail writable again")
                    self.audit_failure = None
        return written


class AuditGate:
    """The pipeline's first stage (added by the runtime, not configurable): while the
    audit trail cannot be written (:attr:`PluginContext.audit_failure`), every session,
    statement, command and file operation is denied; otherwise it abstains."""

    name = "audit-gate"

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx

    def decide(self, event: Event) -> Decision | None:
        return self.refusal()

    def refusal(self) -> Decision | None:
        """The DENY while the audit trail is down, else None (for requests admitted earlier,
        e.g. executions of an already judged statement: ``Guard.readmit``)."""
        return self.unrecorded() if self.ctx.audit_failure is not None else None

    def unrecorded(self) -> Decision:
        """The DENY for an action whose own record could not be written, whatever the
        flag says by now (another session's write may have cleared it meanwhile)."""
        failure = self.ctx.audit_failure or "write failed"
        return Decision.deny(rule="audit-unavailable", reason=f"audit trail unavailable ({failure})",
                             message="the audit trail cannot be written; nothing runs until it is repaired")
