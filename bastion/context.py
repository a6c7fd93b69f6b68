"""The plugin context: everything a plugin may use, built once at start-up."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bastion.config.load import Settings
from bastion.config.model import ListenerConfig
from bastion.core.contracts import AuditEvent, Masker, Sink
from bastion.core.pipeline import Pipeline
from bastion.core.types import Target, UpstreamTLS
from bastion.state.directory import LoginLinks, SSHKeys, UserDirectory
from bastion.state.store import StateStore
from bastion.state.tokens import TokenStore
from bastion.state.vault import Vault

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
    services: dict[str, Any] = field(default_factory=dict)
    """Late-bound shared services (approval broker, TLS contexts…)."""

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

    def emit(self, event: AuditEvent) -> None:
        """Send an audit event to every sink; a failing sink is logged, never fatal here
        (the journal sink raises only when it cannot persist, handled by the runtime)."""
        for sink in self.sinks:
            try:
                sink.emit(event)
            except Exception:  # noqa: BLE001
                log.exception("audit sink %s failed on %s", getattr(sink, "name", sink), event.type)
