"""An embedded OpenSearch 2.19 node for tests and benchmarks (the Java launcher in ``launcher/``).

``build()`` runs ``mvn -q -B package`` (the engine's jars come from Maven Central into
``~/.m2`` and ``launcher/target/lib``; nothing of the engine is committed), then
:class:`OpenSearchNode` starts ``java -cp … bastion.search.Main PORT HOME`` and waits for
cluster health yellow. ``stop``/``start`` keep the data directory, so a test can take the
engine away and bring it back with its indices intact.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

LAUNCHER = Path(__file__).with_name("launcher")
START_TIMEOUT = 60.0


class EngineError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build() -> str:
    """Build the launcher; returns its Java class path."""
    if not shutil.which("mvn") or not shutil.which("java"):
        raise EngineError("mvn and java are needed (Debian: maven, openjdk-17-jdk-headless)")
    try:
        res = subprocess.run(["mvn", "-q", "-B", "package"], cwd=LAUNCHER, capture_output=True, text=True,
                             timeout=900)
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"mvn package timed out: {exc}") from exc
    if res.returncode != 0:
        raise EngineError(f"mvn package failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return f"{LAUNCHER / 'target' / 'classes'}:{LAUNCHER / 'target' / 'lib' / '*'}"


class OpenSearchNode:
    def __init__(self, home: Path, classpath: str, port: int | None = None, heap: str = "1g") -> None:
        self.home = home
        self.classpath = classpath
        self.port = port or free_port()
        self.heap = heap
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_in = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: object = None, timeout: float = 10.0) -> dict[str, object]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
            result: dict[str, object] = json.loads(resp.read() or b"{}")
            return result

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "node.log", "ab")  # noqa: SIM115 - handed to the child
        began = time.monotonic()
        self.proc = subprocess.Popen(
            ["java", f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
             "-Dfile.encoding=UTF-8", "-cp", self.classpath, "bastion.search.Main", str(self.port), str(self.home)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = began + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EngineError(f"OpenSearch exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                health = self.request("GET", "/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=5)
                if health.get("status") in ("yellow", "green"):
                    self.started_in = time.monotonic() - began
                    return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.25)
        self.stop()
        raise EngineError(f"OpenSearch not healthy after {START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def log_tail(self, n: int = 3000) -> str:
        try:
            return (self.home / "node.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""
