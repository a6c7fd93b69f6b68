"""Build the plugin context from validated settings: store, vault, tokens, plugins."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

from bastion import registry
from bastion.approvals import ApprovalBroker
from bastion.config.load import Settings, load_settings
from bastion.config.schema import ConfigError
from bastion.context import AuditGate, PluginContext
from bastion.core.pipeline import Pipeline
from bastion.state.store import StateStore
from bastion.state.throttle import LoginThrottle
from bastion.state.tokens import TokenStore
from bastion.state.vault import Vault, load_key

log = logging.getLogger("bastion.bootstrap")


def known_protocols() -> dict[str, registry.Loaded]:
    return registry.load("bastion.protocols")


def load_checked(path: str) -> tuple[Settings, dict[str, registry.Loaded]]:
    """Load the config and the protocol plugins, cross-checking targets against plugins."""
    protocols = known_protocols()
    settings = load_settings(path, known_protocols=set(protocols))
    errors: list[str] = []
    for i, target in enumerate(settings.config.targets):
        plugin = protocols[target.protocol].value
        for problem in plugin.validate_target(target.options):
            errors.append(f"{settings.path}: targets[{i}].options: {problem}")
    for name, listener in settings.config.listeners.items():
        problems = protocols[name].value.validate_listener(listener.options) if name in protocols else []
        for problem in problems:
            errors.append(f"{settings.path}: listeners.{name}.options: {problem}")
    stages = registry.load("bastion.policies")
    for i, name in enumerate(settings.config.policies.stages):
        if name not in stages:
            errors.append(f"{settings.path}: policies.stages[{i}]: no policy stage named {name!r} "
                          f"(installed: {', '.join(sorted(stages))})")
    sinks = registry.load("bastion.sinks")
    for i, name in enumerate(settings.config.audit.sinks):
        if name not in sinks:
            errors.append(f"{settings.path}: audit.sinks[{i}]: no sink named {name!r} "
                          f"(installed: {', '.join(sorted(sinks))})")
    if errors:
        raise ConfigError(errors)
    return settings, protocols


def private_roots(settings: Settings) -> list[Path]:
    """Where the bastion keeps what only it may read: the state directory, the journal,
    the SQLite state store and audit index (wherever the configuration puts them)."""
    cfg = settings.config
    journal = Path(cfg.audit.journal_dir)
    roots = [settings.state_dir, journal]
    if cfg.state.url.startswith("sqlite:///"):
        roots.append(Path(cfg.state.url.split("///", 1)[1]))
    if cfg.audit.index.backend == "sqlite":
        roots.append(journal / cfg.audit.index.database)  # an absolute path replaces the journal's
    return roots


def open_store(settings: Settings) -> tuple[StateStore, TokenStore, Vault]:
    store = StateStore(settings.config.state.url)
    store.migrate()
    tokens = TokenStore(store)
    vcfg = settings.config.vault
    vault = Vault(store, load_key(vcfg.key_file, vcfg.key_env))
    return store, tokens, vault


def minimal_context(settings: Settings) -> PluginContext:
    """Settings, state store (migrated), tokens and vault; no policy stages, sinks or
    maskers: for processes that serve no session (the workers' supervisor, the indexer)."""
    store, tokens, vault = open_store(settings)
    return PluginContext(settings=settings, store=store, tokens=tokens, vault=vault)


def node_name(settings: Settings, worker: int | None = None) -> str:
    """``server.node_id``, else the host name; worker ``I`` of several is ``<node>/worker-I``
    (a restarted worker forgets what its predecessor registered, never its siblings' rows)."""
    node = settings.config.server.node_id or socket.gethostname()[:100]
    return node if worker is None else f"{node}/worker-{worker}"


def build_context(settings: Settings, worker: int | None = None) -> PluginContext:
    """Everything plugins need, with policy stages and sinks built and validated (``worker``:
    this process is that worker of the node, see :func:`node_name`)."""
    store, tokens, vault = open_store(settings)
    ctx = PluginContext(settings=settings, store=store, tokens=tokens, vault=vault,
                        throttle=LoginThrottle(store, settings.config.login_throttle),
                        node=node_name(settings, worker))
    stages_eps = registry.load("bastion.policies")
    stages = [registry.build("bastion.policies", stages_eps[n].value, n, ctx)
              for n in settings.config.policies.stages]
    ctx.pipeline = Pipeline([AuditGate(ctx), *stages], stage_budget=settings.config.policies.stage_budget)
    sink_eps = registry.load("bastion.sinks")
    ctx.sinks = [registry.build("bastion.sinks", sink_eps[n].value, n, ctx) for n in settings.config.audit.sinks]
    masker_eps = registry.load("bastion.maskers")
    ctx.maskers = [registry.build("bastion.maskers", ep.value, n, ctx) for n, ep in masker_eps.items()]
    ctx.approvals = _broker(ctx)
    return ctx


def _broker(ctx: PluginContext) -> ApprovalBroker:
    import gevent

    from bastion.runtime.webhook import Webhook

    cfg = ctx.settings.config
    base = cfg.saml.sp_base_url if cfg.saml else ""
    hook = cfg.approvals.webhook_url
    notify = Webhook(hook, base, cfg.approvals.webhook_timeout) if hook else None
    return ApprovalBroker(ctx, sleep=gevent.sleep, notify=notify, poll=cfg.approvals.poll_interval)


def describe(ctx: PluginContext) -> dict[str, Any]:
    return {"stages": [s.name for s in ctx.pipeline.stages], "sinks": [s.name for s in ctx.sinks],
            "maskers": [m.name for m in ctx.maskers]}
