"""Embedded search engine nodes for tests and benchmarks: OpenSearch 2.19 and Elasticsearch 9.1.

Each engine has a Java launcher module (``launcher/`` for OpenSearch, ``es-launcher/`` for
Elasticsearch, see tests/search/elasticsearch.py). ``build()`` runs ``mvn -q -B package`` (the
engine's jars come from Maven Central into ``~/.m2`` and ``<module>/target/lib``; nothing of the
engine is committed), then :class:`OpenSearchNode` starts ``java -cp … MAIN PORT HOME [KEY=VALUE…]``
and waits for cluster health yellow. ``stop``/``start`` keep the data directory, so a test can
take the engine away and bring it back with its indices intact; ``kill`` is a SIGKILL.
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
from collections.abc import Mapping, Sequence
from pathlib import Path

LAUNCHER = Path(__file__).with_name("launcher")
START_TIMEOUT = 90.0


class EngineError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(module: Path = LAUNCHER, java_home: str | None = None, exclude: Sequence[str] = ()) -> str:
    """Build a launcher module; returns its Java class path (``exclude``: jar name prefixes left out)."""
    if not shutil.which("mvn") or not (java_home or shutil.which("java")):
        raise EngineError("mvn and java are needed (Debian: maven, openjdk-17-jdk-headless)")
    env = {**os.environ, "JAVA_HOME": java_home} if java_home else None
    try:
        res = subprocess.run(["mvn", "-q", "-B", "package"], cwd=module, capture_output=True, text=True,
                             timeout=900, env=env)
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"mvn package timed out: {exc}") from exc
    if res.returncode != 0:
        raise EngineError(f"mvn package failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    lib = module / "target" / "lib"
    if not exclude:
        return f"{module / 'target' / 'classes'}:{lib / '*'}"
    jars = sorted(str(p) for p in lib.glob("*.jar") if not p.name.startswith(tuple(exclude)))
    return ":".join([str(module / "target" / "classes"), *jars])


class OpenSearchNode:
    engine = "OpenSearch"
    main = "bastion.search.Main"

    def __init__(self, home: Path, classpath: str, port: int | None = None, heap: str = "1g",
                 java: str = "java", settings: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.classpath = classpath
        self.port = port or free_port()
        self.heap = heap
        self.java = java
        self.settings = dict(settings or {})
        """Node settings passed to the launcher as KEY=VALUE (names, transport ports, seed hosts)."""
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

    def jvm_options(self) -> list[str]:
        return [f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                "-Dfile.encoding=UTF-8"]

    def launch(self) -> None:
        """Start the JVM without waiting for the node (a cluster's nodes must start together)."""
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "node.log", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [self.java, *self.jvm_options(), "-cp", self.classpath, self.main, str(self.port), str(self.home),
             *(f"{k}={v}" for k, v in self.settings.items())],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def start(self, wait_for: str = "yellow") -> None:
        began = time.monotonic()
        self.launch()
        self.wait_healthy(began, wait_for)

    def wait_healthy(self, began: float, status: str = "yellow", timeout: float = START_TIMEOUT) -> None:
        assert self.proc is not None
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EngineError(f"{self.engine} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                health = self.request("GET", f"/_cluster/health?wait_for_status={status}&timeout=1s", timeout=5)
                if health.get("status") == "green" or health.get("status") == status:
                    self.started_in = time.monotonic() - began
                    return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.25)
        self.stop()
        raise EngineError(f"{self.engine} not {status} after {timeout:.0f}s:\n{self.log_tail()}")

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

    def kill(self) -> None:
        """SIGKILL: the node dies as in a crash (no shutdown hook, no flush)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def log_tail(self, n: int = 3000) -> str:
        try:
            return (self.home / "node.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""
