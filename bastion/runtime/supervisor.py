"""``bastion serve --workers N`` (N > 1): one supervisor process, N gevent workers.

Contract:

* The supervisor binds every enabled listener (a port clash fails start-up before any
  worker runs; port 0 gets one port for all) and starts N workers,
  ``bastion serve --worker I`` (:mod:`bastion.runtime.worker`), that accept on the
  inherited sockets. Worker 0 starts alone first: what the first start creates (TLS CA
  and certificate, SSH host keys, the cookie key, state store tables) is made once,
  never by N processes racing; the others then start together.
* Worker ``I`` journals to ``journal_dir/worker-I``, the same directory across its
  restarts, so the next one records the end of the sessions a killed one left open.
  The supervisor runs the node's only audit indexer, over every journal below
  ``journal_dir`` (:func:`bastion.audit.service.start`).
* A worker that dies is started again after a back-off: 0.5 s doubling up to
  :data:`BACKOFF_MAX`, back to 0.5 s once a worker ran :data:`STABLE` seconds. Meanwhile
  the other workers keep accepting on the same sockets.
* SIGTERM or SIGINT: the supervisor closes its own copies of the listening sockets (once
  every worker has closed its copy too, new connections are refused), forwards the
  signal, waits for the workers to drain (``server.drain_seconds``, then their sessions
  end with reason ``drain``), SIGKILLs a worker that outlives that by :data:`STOP_MARGIN`,
  stops the indexer and exits 0. A second signal changes nothing.
* SIGHUP: a rolling restart. One worker at a time is drained and started again (reading
  the configuration anew, except the listeners); the others accept meanwhile.
* ``/metrics`` sums all workers: prometheus-client's multiprocess mode, in
  ``state_dir/metrics`` (emptied at start; a dead worker's live gauges are dropped). The
  workers copy the indexer's lag and failures into their gauges.

Why inherited sockets rather than SO_REUSEPORT: with one listening socket there is one
accept queue, so connections queued when a worker is killed are accepted by the others
(with SO_REUSEPORT, the dead worker's own queue is reset); the supervisor's bind detects
clashes and resolves port 0 once; and no other process of the same user can join the
port group. gevent's StreamServer and WSGIServer take a bound socket as their listener.
The cost is that every worker wakes for each connection; a worker takes one connection
per wake-up (``max_accept = 1`` in :class:`bastion.runtime.server.Bastion`) so a burst
spreads over the workers instead of going to the first one awake.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.subprocess

from bastion.config.load import Settings
from bastion.runtime.worker import listen_spec

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Where a worker's prometheus-client keeps its values (see :mod:`bastion.runtime.metrics`)."""

log = logging.getLogger("bastion.supervisor")

BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0
STABLE = 60.0
"""Seconds a worker must run for its next death to count as new, not a crash loop."""
READY_TIMEOUT = 120.0
"""Seconds a worker has to start accepting at start-up and in a rolling restart."""
STOP_MARGIN = 30.0
"""Seconds past the drain a worker has to finish stopping before it is killed."""
BACKLOG = 1024


def multiprocess_metrics(state_dir: str) -> Path:
    """``state_dir/metrics``, emptied: the workers' prometheus-client files (they start with
    it in their environment; the supervisor's and the indexer's own metrics are never
    exposed, so they keep theirs in memory)."""
    directory = Path(state_dir) / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700, parents=True)
    return directory


def bind(settings: Settings) -> dict[str, socket.socket]:
    """A listening socket for every enabled listener (``web`` included)."""
    sockets: dict[str, socket.socket] = {}
    for name, lc in settings.config.listeners.items():
        if lc.enabled:
            family = socket.getaddrinfo(lc.bind, lc.port, type=socket.SOCK_STREAM)[0][0]
            sockets[name] = socket.create_server((lc.bind, lc.port), family=family, backlog=BACKLOG)
    return sockets


@dataclass
class Slot:
    """Worker ``index``: its current process and whether that one accepts yet."""

    index: int
    proc: gevent.subprocess.Popen | None = None
    ready: gevent.event.Event = field(default_factory=gevent.event.Event)
    rolling: bool = False
    """Stopped on purpose (SIGHUP): start the next one at once."""
    loop: gevent.Greenlet | None = None


class Supervisor:
    def __init__(self, settings: Settings, workers: int, drain: float, metrics_dir: Path) -> None:
        self.settings = settings
        self.drain = drain
        self.metrics_dir = metrics_dir
        self.slots = [Slot(i) for i in range(workers)]
        self.sockets: dict[str, socket.socket] = {}
        self.stopping = False
        self.started = False
        self.failed = gevent.event.Event()
        self.done = gevent.event.Event()
        self.audit: Any = None

    def argv(self, slot: Slot, ready_fd: int) -> list[str]:
        return [sys.executable, "-m", "bastion.cli", "serve", "--config", str(self.settings.path),
                "--grace", str(self.drain), "--worker", str(slot.index), "--listen-fds", listen_spec(self.sockets),
                "--ready-fd", str(ready_fd), "--parent", str(os.getpid())]

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; 0 after a clean stop, 2 if the workers never started."""
        from bastion.audit import service as audit_service
        from bastion.runtime.bootstrap import minimal_context

        ctx = minimal_context(self.settings)  # migrates the state store once, before any worker
        self.sockets = bind(self.settings)
        ports = {name: sock.getsockname()[1] for name, sock in self.sockets.items()}
        for sig in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(sig, self._shutdown, sig)
        if not self._start_all():
            signalled = self.stopping
            self._shutdown(signal.SIGTERM)
            self.done.wait()
            return 0 if signalled else 2
        self.started = True
        self.audit = audit_service.start(ctx)
        gevent.signal_handler(signal.SIGHUP, lambda: gevent.spawn(self._rolling_restart))
        pids = [s.proc.pid for s in self.slots if s.proc is not None]
        print(json.dumps({"event": "ready", "ports": ports, "workers": pids}), flush=True)
        log.info("supervising %d workers", len(self.slots), extra={"workers": pids})
        self.done.wait()
        log.info("stopped")
        return 0

    def _start_all(self) -> bool:
        """Worker 0 first (it creates what the first start creates), then the others."""
        for group in (self.slots[:1], self.slots[1:]):
            for slot in group:
                slot.loop = gevent.spawn(self._keep_running, slot)
            for slot in group:
                waiter = gevent.spawn(slot.ready.wait, READY_TIMEOUT)
                gevent.wait([waiter, self.failed, self.done], count=1)
                if not slot.ready.is_set():
                    log.error("worker %d did not start", slot.index)
                    return False
        return True

    def _keep_running(self, slot: Slot) -> None:
        delay = BACKOFF_MIN
        while not self.stopping:
            started = time.monotonic()
            code = self._run_once(slot)
            if self.stopping:
                return
            if not self.started:
                self.failed.set()  # start-up: a configuration problem, not a crash to retry
                return
            if slot.rolling:
                slot.rolling = False
                continue
            if time.monotonic() - started > STABLE:
                delay = BACKOFF_MIN
            log.error("worker %d exited (status %s); restarting in %.1f s", slot.index, code, delay)
            gevent.sleep(delay)
            delay = min(BACKOFF_MAX, delay * 2)

    def _run_once(self, slot: Slot) -> int:
        """Start worker ``slot`` and wait for it to exit; returns its exit status."""
        ours, theirs = socket.socketpair()
        slot.ready.clear()
        try:
            proc = gevent.subprocess.Popen(self.argv(slot, theirs.fileno()), stdin=subprocess.DEVNULL,
                                           pass_fds=[*(s.fileno() for s in self.sockets.values()), theirs.fileno()],
                                           env={**os.environ, MULTIPROC_ENV: str(self.metrics_dir)})
        finally:
            theirs.close()
        slot.proc = proc
        log.info("worker %d started", slot.index, extra={"worker": slot.index, "pid": proc.pid})
        if self.stopping:
            proc.send_signal(signal.SIGTERM)
        watcher = gevent.spawn(_await_ready, ours, slot)
        code = int(proc.wait())
        watcher.kill()
        ours.close()
        _metrics_dead(proc.pid, self.metrics_dir)
        return code

    def _shutdown(self, sig: int = signal.SIGTERM) -> None:
        if self.stopping:
            return
        self.stopping = True
        log.info("signal %d received: draining the workers", sig)
        for sock in self.sockets.values():
            sock.close()  # the workers close theirs as they stop: then the kernel refuses
        for slot in self.slots:
            if slot.proc is not None and slot.proc.poll() is None:
                slot.proc.send_signal(sig)
        gevent.spawn(self._finish)

    def _finish(self) -> None:
        deadline = time.monotonic() + self.drain + STOP_MARGIN
        for slot in self.slots:
            proc = slot.proc
            if proc is None:
                continue
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except gevent.subprocess.TimeoutExpired:
                log.error("worker %d did not stop; killing it", slot.index)
                proc.kill()
                proc.wait()
        gevent.killall([s.loop for s in self.slots if s.loop is not None], timeout=5)
        if self.audit is not None:
            self.audit.stop()
        self.done.set()

    def _rolling_restart(self) -> None:
        """SIGHUP: drain and restart one worker at a time. A configuration that no longer
        loads, or a worker that does not come back, stops it: the others keep serving."""
        from bastion.config.schema import ConfigError
        from bastion.registry import PluginError
        from bastion.runtime.bootstrap import load_checked

        try:
            load_checked(str(self.settings.path))
        except (ConfigError, PluginError) as exc:
            log.error("SIGHUP: the configuration does not load; no worker restarted: %s", exc)
            return
        log.info("SIGHUP: restarting the workers one at a time")
        for slot in self.slots:
            proc = slot.proc
            if self.stopping or proc is None or proc.poll() is not None:
                continue
            slot.rolling = True
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + self.drain + STOP_MARGIN + READY_TIMEOUT
            while not (slot.proc is not proc and slot.ready.is_set()):
                if self.stopping or time.monotonic() > deadline:
                    log.error("rolling restart stopped: worker %d is not back", slot.index)
                    return
                gevent.sleep(0.1)
        log.info("rolling restart done")


def _await_ready(ours: socket.socket, slot: Slot) -> None:
    if ours.recv(64).startswith(b"ready"):
        slot.ready.set()
        log.info("worker %d accepts", slot.index)


def _metrics_dead(pid: int, directory: Path) -> None:
    """Drop a dead worker's live gauges (its counters stay: they count what it did)."""
    from prometheus_client import multiprocess

    try:
        multiprocess.mark_process_dead(pid, str(directory))
    except OSError:
        log.debug("metrics of worker pid %d not removed", pid, exc_info=True)


def run_supervisor(settings: Settings, workers: int, drain: float) -> int:
    """``bastion serve`` with ``workers`` > 1; see the module doc."""
    return Supervisor(settings, workers, drain, multiprocess_metrics(settings.config.state_dir)).run()
