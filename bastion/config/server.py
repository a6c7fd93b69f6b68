"""The server section of the configuration: processes, shutdown, this node's name and readiness.

Part of the configuration schema (:mod:`bastion.config.model` re-exports these classes);
attribute docstrings are the reference documentation (docs/configuration.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class ReadinessConfig:
    """When this node takes new connections (``/healthz``; :mod:`bastion.runtime.readiness`)."""

    interval: float = 2.0
    """Seconds between checks (the listeners read the last result; no check per connection)."""
    timeout: float = 5.0
    """Seconds a check may take (a state store that hangs counts as unreachable)."""
    max_index_lag: int = 100_000
    """Journal records not yet in the audit index above which the node is not ready (0: not checked)."""
    max_status_age: float = 60.0
    """Seconds after which the indexer's last report counts as lost (its process is down)."""

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.timeout <= 0 or self.max_index_lag < 0 or self.max_status_age <= 0:
            raise ValueError("interval, timeout and max_status_age must be positive, max_index_lag not negative")


@dataclass(frozen=True)
class ServerConfig:
    """How ``bastion serve`` runs: processes, shutdown, and this node among the nodes that
    share one state store."""

    workers: int | Literal["auto"] = 1
    """gevent worker processes accepting on the listeners (``auto``: one per CPU). With
    more than one, a supervisor binds the listeners and runs the workers
    (:mod:`bastion.runtime.supervisor`); with one, the bastion is a single process."""
    drain_seconds: float = 10.0
    """On SIGTERM: stop accepting, let open sessions finish this long, then end them
    (their end record says ``drain``)."""
    node_id: str = ""
    """This node's name in the state store (open sessions, MySQL connection ids); default:
    the host name. Nodes sharing a state store must have different ids: a node that starts
    forgets what its id's previous run left registered (each worker ``I`` registers as
    ``<node_id>/worker-I``)."""
    readiness: ReadinessConfig = field(default_factory=ReadinessConfig)

    def __post_init__(self) -> None:
        if self.workers != "auto" and self.workers < 1:
            raise ValueError("workers must be at least 1 (or auto)")
        if self.drain_seconds < 0:
            raise ValueError("drain_seconds must not be negative")
        if len(self.node_id) > 100 or any(c.isspace() or c == "/" for c in self.node_id):
            raise ValueError("node_id: at most 100 characters, without spaces or '/'")

    def worker_count(self) -> int:
        """The number of worker processes (``auto``: the machine's CPUs)."""
        return (os.cpu_count() or 1) if self.workers == "auto" else self.workers
