"""Typed settings of the ``ssh`` listener and of SSH targets, read once from the config.

Listener settings come from ``listeners.ssh`` (``handshake_timeout``, ``idle_timeout``)
and its ``options`` mapping; target settings from ``targets[].options``. Both are
validated at start-up by :func:`listener_problems` and :func:`target_problems`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from bastion.config.model import ListenerConfig
from plugins.ssh import certificate


@dataclass(frozen=True, slots=True)
class SSHOptions:
    """Everything the SSH plugin reads from its listener."""

    handshake_timeout: float = 15.0
    """Seconds to finish key exchange and authentication (a login-link wait extends it)."""
    idle_timeout: float = 8 * 3600.0
    """Seconds without client traffic before the connection is closed."""
    keepalive: int = 30
    """Seconds between keepalive requests on both legs (0 disables)."""
    max_auth_attempts: int = 6
    max_session_seconds: float = 12 * 3600.0
    """Hard cap on a connection's lifetime (0 = unlimited)."""
    login_link_timeout: float = 300.0
    """How long a keyboard-interactive login waits for the browser approval."""
    portal_url: str = ""
    """Base URL of the web portal for login links; defaults to ``saml.sp_base_url``."""
    banner: str = ""
    exec_capture_bytes: int = 16384
    """Bytes of exec output (stdout+stderr) kept in the audit event."""
    record_input: bool = False
    """Also record keystrokes (``"i"`` events) in asciicasts, masked when not echoed."""
    env_allow: tuple[str, ...] = ("LANG", "LC_*")
    allow_forward: tuple[str, ...] = ()
    """``host:port`` patterns (fnmatch) any target may forward to; targets add their own."""
    upstream_timeout: float = 10.0
    channel_request_timeout: float = 30.0

    @classmethod
    def from_listener(cls, listener: ListenerConfig | None) -> SSHOptions:
        if listener is None:
            return cls()
        raw = dict(listener.options)
        values: dict[str, Any] = {"handshake_timeout": listener.handshake_timeout,
                                  "idle_timeout": listener.idle_timeout}
        for f in fields(cls):
            if f.name in raw:
                value = raw[f.name]
                values[f.name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)

    def env_allowed(self, name: str) -> bool:
        """Whether a client's ``env`` request for ``name`` is passed on. Only shell names
        are, whatever ``env_allow`` says: bash imports ``BASH_FUNC_ls%%`` as a function
        named ``ls`` (which no exec line shows), and the exec line is judged with the
        variables in front of it (plugins.ssh.channels.judged_line)."""
        if not _SHELL_NAME.fullmatch(name) or name.startswith("BASH_FUNC_"):
            return False
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.env_allow)


_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LISTENER_TYPES: dict[str, type | tuple[type, ...]] = {
    "keepalive": int, "max_auth_attempts": int, "max_session_seconds": (int, float),
    "login_link_timeout": (int, float), "portal_url": str, "banner": str, "exec_capture_bytes": int,
    "record_input": bool, "env_allow": list, "allow_forward": list, "upstream_timeout": (int, float),
    "channel_request_timeout": (int, float),
}

TARGET_OPTIONS = {"known_hosts", "users", "allow_forward", "connect_timeout", "credential", "certificate_validity",
                  "certificate_source_address", "rotate_every", "authorized_keys"}


def listener_problems(options: Mapping[str, Any]) -> list[str]:
    """Problems with ``listeners.ssh.options`` (empty when valid)."""
    problems = []
    for key, value in options.items():
        expected = _LISTENER_TYPES.get(key)
        if expected is None:
            problems.append(f"unknown option {key!r} (expected one of: {', '.join(sorted(_LISTENER_TYPES))})")
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"{key} has the wrong type ({type(value).__name__})")
    for key in ("env_allow", "allow_forward"):
        if isinstance(options.get(key), list) and not all(isinstance(v, str) for v in options[key]):
            problems.append(f"{key} must be a list of strings")
    return problems


def target_problems(options: Mapping[str, Any]) -> list[str]:
    """Problems with an SSH target's ``options`` (empty when valid)."""
    problems = [f"unknown option {k!r} (expected one of: {', '.join(sorted(TARGET_OPTIONS))})"
                for k in options if k not in TARGET_OPTIONS]
    known = options.get("known_hosts")
    # Existence is checked when connecting (a missing file refuses the session with a
    # clear message), so configs can be validated on a machine without the files.
    if not isinstance(known, str) or not known:
        problems.append("known_hosts is required: a known_hosts file with the target's host key or an "
                        "@cert-authority line for it (no trust on first use)")
    users = options.get("users", {})
    if not isinstance(users, dict) or not all(isinstance(v, str) for v in users.values()):
        problems.append("users must map account names to upstream OS user names")
    forward = options.get("allow_forward", [])
    if not isinstance(forward, list) or not all(isinstance(v, str) and ":" in v for v in forward):
        problems.append("allow_forward must be a list of 'host:port' patterns")
    timeout = options.get("connect_timeout", 10)
    if not isinstance(timeout, int | float) or timeout <= 0:
        problems.append("connect_timeout must be a positive number of seconds")
    every = options.get("rotate_every", 0)
    if isinstance(every, bool) or not isinstance(every, int | float) or every < 0:
        problems.append("rotate_every must be seconds between rotations of the vaulted key (0: never)")
    if not isinstance(options.get("authorized_keys", "~/.ssh/authorized_keys"), str):
        problems.append("authorized_keys must be the path of the account's authorized_keys file")
    return problems + certificate.option_problems(dict(options))


def forward_allowed(patterns: tuple[str, ...] | list[str], host: str, port: int) -> bool:
    """True when ``host:port`` matches one of the ``allow_forward`` patterns."""
    dest = f"{host.lower()}:{port}"
    return any(fnmatch.fnmatchcase(dest, p.lower()) for p in patterns)
