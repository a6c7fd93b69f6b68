"""Typed settings of the ``mysql`` listener and of MySQL targets, read once from the config.

Listener settings come from ``listeners.mysql`` (``handshake_timeout``, ``idle_timeout``)
and its ``options`` mapping; target settings from ``targets[].options``. Both are
validated at start-up by :func:`listener_problems` and :func:`target_problems`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bastion.config.model import ListenerConfig
from plugins.mysql import templates
from plugins.mysql.server import auth_plugins, validate_auth_plugins

DEFAULT_VERSION = "5.5.5-10.11.0-MariaDB-bastion"
"""Looks like MariaDB 10.11 (the ``5.5.5-`` prefix is MariaDB's own convention) so
client libraries pick MariaDB-compatible behaviour; configurable per listener."""

MAX_BUSY_POLL_US = 10_000
LISTENER_OPTIONS = {"server_version", "busy_poll_us", "auth_plugins", "ephemeral_sweep_seconds"}
TARGET_OPTIONS = {"users", "connect_timeout", "ephemeral", "rotate_every"}


@dataclass(frozen=True, slots=True)
class MySQLOptions:
    """Everything the MySQL plugin reads from its listener."""

    handshake_timeout: float = 10.0
    """Seconds to finish TLS and authentication."""
    idle_timeout: float = 8 * 3600.0
    """Seconds without a client command before the connection is closed."""
    server_version: str = DEFAULT_VERSION
    busy_poll_us: int = 0
    """Microseconds the hub polls for more packets before it sleeps (0: off)."""
    auth_plugins: frozenset[str] = frozenset({"caching_sha2_password"})
    """Authentication plugins offered for tokens (``mysql_native_password`` for old drivers)."""
    ephemeral_sweep_seconds: float = 60.0
    """Seconds between sweeps for orphaned per-session users (``options.ephemeral`` targets)."""

    @classmethod
    def from_listener(cls, listener: ListenerConfig | None) -> MySQLOptions:
        if listener is None:
            return cls()
        raw = listener.options
        return cls(handshake_timeout=listener.handshake_timeout, idle_timeout=listener.idle_timeout,
                   server_version=str(raw.get("server_version", DEFAULT_VERSION)),
                   busy_poll_us=int(raw.get("busy_poll_us", 0)), auth_plugins=auth_plugins(raw),
                   ephemeral_sweep_seconds=float(raw.get("ephemeral_sweep_seconds", 60.0)))


def listener_problems(options: Mapping[str, Any]) -> list[str]:
    """Problems with ``listeners.mysql.options`` (empty when valid)."""
    problems = [f"unknown option {k!r} (expected one of: {', '.join(sorted(LISTENER_OPTIONS))})"
                for k in options if k not in LISTENER_OPTIONS]
    if not isinstance(options.get("server_version", ""), str):
        problems.append("server_version must be a string")
    poll = options.get("busy_poll_us", 0)
    if isinstance(poll, bool) or not isinstance(poll, int) or not 0 <= poll <= MAX_BUSY_POLL_US:
        problems.append(f"busy_poll_us must be an integer from 0 (off) to {MAX_BUSY_POLL_US}")
    sweep = options.get("ephemeral_sweep_seconds", 60)
    if isinstance(sweep, bool) or not isinstance(sweep, int | float) or not 1 <= sweep <= 86400:
        problems.append("ephemeral_sweep_seconds must be 1 to 86400 seconds")
    return problems + validate_auth_plugins(options)


def target_problems(options: Mapping[str, Any]) -> list[str]:
    """Problems with a MySQL target's ``options`` (empty when valid)."""
    problems = [f"unknown option {k!r} (expected one of: {', '.join(sorted(TARGET_OPTIONS))})"
                for k in options if k not in TARGET_OPTIONS]
    users = options.get("users", {})
    if not isinstance(users, dict) or not all(isinstance(v, str) for v in users.values()):
        problems.append("users must map account names to upstream MySQL user names")
    every = options.get("rotate_every", 0)
    if isinstance(every, bool) or not isinstance(every, int | float) or every < 0:
        problems.append("rotate_every must be seconds between rotations of the vaulted passwords (0: never)")
    return problems + templates.problems(options)
