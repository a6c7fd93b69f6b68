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
import signal
import socket
import subprocess
import time
from pathlib import Path


class TCPProxy:
    """``haproxy`` forwarding 127.0.0.1:port to ``upstream_port``, one thread, TCP mode."""

    def __init__(self, workdir: Path, upstream_port: int) -> None:
        self.workdir = workdir
        self.upstream_port = upstream_port
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def binary() -> str | None:
        """haproxy on PATH, or in /usr/sbin (where Debian puts it, off a non-root PATH)."""
        return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")

    @classmethod
    def available(cls) -> bool:
        return cls.binary() is not None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = self.workdir / "haproxy.cfg"
        config.write_text(
            "global\n  nbthread 1\n  maxconn 2000\n"
            "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n"
            f"listen mysql\n  bind 127.0.0.1:{self.port}\n  server db 127.0.0.1:{self.upstream_port}\n")
        self.proc = subprocess.Popen([self.binary() or "haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.workdir / "haproxy.log", "wb"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited: {(self.workdir / 'haproxy.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("haproxy did not listen within 10 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
