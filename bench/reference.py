"""What any proxy costs in a topology: a C TCP proxy as a reference, and CPU busy time.

A proxy on a CPU of its own turns every hop between the client and the database into a
wake-up of a task on another CPU. On some machines (nested virtual machines above all)
that wake-up costs the *sender* more than the whole statement costs the database, so the
client and the database pay for it too, and no proxy, however cheap, reaches the direct
path's throughput. ``HAProxy`` in TCP mode (one thread, no TLS termination: TLS runs end
to end between sysbench and MariaDB) is that reference: it forwards bytes and does
nothing else, so what it loses against the direct path is the topology's price, and the
bastion is measured against both.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bastion.demo.haproxy import Backend, Frontend, HAProxy


class TCPProxy:
    """``haproxy`` forwarding 127.0.0.1:port to ``upstream_port``, one thread, TCP mode."""

    def __init__(self, workdir: Path, upstream_port: int) -> None:
        self.haproxy = HAProxy(workdir, [Frontend("mysql", "tcp", [Backend("db", upstream_port)])])
        self.port = self.haproxy.front_port("mysql")

    @staticmethod
    def binary() -> str | None:
        """haproxy on PATH, or in /usr/sbin (where Debian puts it, off a non-root PATH)."""
        return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")

    @classmethod
    def available(cls) -> bool:
        return cls.binary() is not None

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.haproxy.proc

    def start(self) -> None:
        self.haproxy.start()

    def stop(self) -> None:
        self.haproxy.stop()
