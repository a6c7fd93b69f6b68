"""HAProxy in front of bastion nodes, as docs/deployment.md runs it: TCP mode for MySQL
and SSH, HTTP mode for the portal, every backend health-checked on its node's
``/healthz`` (readiness).

A node that is not ready (state store unreachable, journal not writable, draining) fails
its check and gets no new connection; a connection refused at connect time (a node
restarting) is re-dispatched to another node (``retries`` + ``option redispatch``), so a
rolling restart refuses no client. Used by the high-availability tests and the
benchmarks' reference path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bastion.demo.services import Service, free_port, need, wait_port


@dataclass(frozen=True)
class Backend:
    """One node's listener: ``port`` carries the traffic, ``health_port`` serves ``/healthz``
    (None: no HTTP check; ``check`` alone: TCP connect checks)."""

    name: str
    port: int
    health_port: int | None = None
    check: bool = False


@dataclass
class Frontend:
    name: str
    mode: str
    """``tcp`` or ``http``."""
    backends: list[Backend]
    port: int = field(default_factory=free_port)


class HAProxy(Service):
    """One ``haproxy`` process (foreground, one thread) with the given frontends."""

    def __init__(self, workdir: Path, frontends: list[Frontend], check_interval_ms: int = 300) -> None:
        super().__init__("haproxy", workdir)
        self.frontends = {f.name: f for f in frontends}
        self.check_interval_ms = check_interval_ms

    def config(self) -> str:
        lines = ["global", "  nbthread 1", "  maxconn 4000",
                 "defaults", "  timeout connect 2s", "  timeout client 1h", "  timeout server 1h",
                 "  timeout check 2s", "  retries 3", "  option redispatch"]
        for front in self.frontends.values():
            lines += [f"listen {front.name}", f"  mode {front.mode}", f"  bind 127.0.0.1:{front.port}",
                      "  balance roundrobin"]
            if any(b.health_port for b in front.backends):
                lines += ["  option httpchk GET /healthz", "  http-check expect status 200"]
            for b in front.backends:
                check = f" check inter {self.check_interval_ms} fall 1 rise 2" if b.check or b.health_port else ""
                if b.health_port:
                    check += f" port {b.health_port}"
                lines.append(f"  server {b.name} 127.0.0.1:{b.port}{check}")
        return "\n".join(lines) + "\n"

    def start(self) -> HAProxy:
        binary = need("haproxy", "haproxy")
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "haproxy.cfg"
        path.write_text(self.config())
        self.spawn([binary, "-db", "-f", str(path)])
        for front in self.frontends.values():
            wait_port(front.port, self.proc, 10, "haproxy", self.log)
        return self

    def front_port(self, frontend: str) -> int:
        return self.frontends[frontend].port
