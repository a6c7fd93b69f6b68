"""The gevent process: one StreamServer per protocol listener plus the web app.

``Bastion.start`` binds everything (so a port clash fails start-up), or accepts on
sockets bound by the supervisor of ``bastion serve --workers N`` (``listeners``).
``stop`` drains: it stops accepting, lets sessions finish up to ``grace`` seconds
(``server.drain_seconds``), then ends those still open with the recorded reason
:data:`DRAIN_REASON`, closes what is left and flushes the sinks. Per-listener limits: a
connection pool of ``max_connections`` (new connections beyond it are refused at once),
plus the plugin's handshake and idle timeouts read from the same listener config.
"""

from __future__ import annotations

import logging
import signal
import socket
import time
from typing import Any

import gevent
import gevent.event
from gevent.pool import Pool
from gevent.pywsgi import WSGIHandler, WSGIServer
from gevent.server import StreamServer

from bastion import registry
from bastion.context import PluginContext
from bastion.runtime import metrics
from bastion.runtime.liveness import Liveness
from bastion.runtime.readiness import Readiness, refuse_unready

log = logging.getLogger("bastion.server")

DRAIN_REASON = "drain: the bastion is stopping (server.drain_seconds elapsed)"
"""Why sessions still open at the end of the drain end (their ``session.end`` says
``ended: <this>``)."""
END_WAIT = 5.0
"""Seconds sessions ended by the drain get to record their end before they are killed."""


class _BoundedPool(Pool):
    """A pool that refuses (instead of queueing) connections beyond its size."""

    def spawn(self, *args: Any, **kwargs: Any) -> gevent.Greenlet:
        if self.full():
            sock = args[1] if len(args) > 1 else None
            if sock is not None and hasattr(sock, "close"):
                sock.close()
            metrics.REFUSED.labels(reason="max_connections").inc()
            return gevent.spawn(lambda: None)
        return super().spawn(*args, **kwargs)


def _deadline_handler(seconds: float) -> type[WSGIHandler]:
    """A request handler whose every socket read and write must progress within
    ``seconds``: a client that opens a connection and sends its headers slowly (or not at
    all) is dropped instead of holding a connection slot."""
    class DeadlineHandler(WSGIHandler):
        def handle(self) -> None:
            self.socket.settimeout(seconds)
            super().handle()
    return DeadlineHandler


class Bastion:
    def __init__(self, ctx: PluginContext, protocols: dict[str, registry.Loaded], web_app: Any = None,
                 listeners: dict[str, socket.socket] | None = None, audit: bool = True) -> None:
        """``listeners``: bound sockets to accept on, by listener name (a worker's,
        inherited from its supervisor); the others are bound here. ``audit``: run the audit
        runtime (indexer, retention); a worker leaves it to its supervisor."""
        self.ctx = ctx
        self.protocols = protocols
        self.web_app = web_app
        self.listeners = listeners or {}
        self.run_audit = audit
        self.servers: dict[str, StreamServer | WSGIServer] = {}
        self.pools: dict[str, Pool] = {}
        self._stopped = gevent.event.Event()
        self._stopping = False
        self.audit: Any = None
        """The audit service (indexer greenlet, journal retention), started last by ``start``."""

    def start(self) -> dict[str, int]:
        """Bind and start every enabled listener; returns listener name -> bound port."""
        ports: dict[str, int] = {}
        for sink in self.ctx.sinks:  # sessions a killed predecessor left open end now, before new ones
            sink.close_orphans()
        self.ctx.liveness = Liveness(self.ctx)
        self.ctx.liveness.start()
        self.ctx.readiness = Readiness(self.ctx)  # new connections are refused while not ready
        self.ctx.readiness.start()
        for name, lc in self.ctx.settings.config.listeners.items():
            if not lc.enabled:
                continue
            if name == "web":
                if self.web_app is None:
                    continue
                server: StreamServer | WSGIServer = WSGIServer(self._listener(name), self.web_app, log=None,
                                                               error_log=logging.getLogger("bastion.web"),
                                                               spawn=Pool(lc.max_connections),
                                                               handler_class=_deadline_handler(lc.handshake_timeout))
            else:
                plugin = self.protocols[name].value
                plugin.prepare(self.ctx)  # one-time setup (host keys, TLS context) before accepting
                pool = _BoundedPool(lc.max_connections)
                self.pools[name] = pool
                server = StreamServer(self._listener(name), self._handler(name, plugin), spawn=pool)
            if name in self.listeners:
                # A socket shared with other workers: take one connection per wake-up, so a
                # burst spreads over the workers instead of going to the first one awake.
                server.max_accept = 1
            server.start()
            self.servers[name] = server
            ports[name] = server.server_port
            log.info("listening", extra={"listener": name, "bind": lc.bind, "port": server.server_port})
        # the journal asks it whether an fsync may stop everyone (bastion.audit.journal)
        self.ctx.open_sessions = lambda: sum(len(p) for p in self.pools.values())
        if self.run_audit:
            from bastion.audit import service as audit_service

            self.audit = audit_service.start(self.ctx)
        return ports

    def _listener(self, name: str) -> socket.socket | tuple[str, int]:
        """The inherited socket of listener ``name``, else the address to bind."""
        lc = self.ctx.settings.config.listeners[name]
        return self.listeners.get(name) or (lc.bind, lc.port)

    def _handler(self, name: str, plugin: Any) -> Any:
        def handle(sock: Any, address: tuple[str, int]) -> None:
            if self.ctx.readiness is not None and not self.ctx.readiness.ready:
                refuse_unready(plugin, sock, address, self.ctx.readiness.reason())
                return
            metrics.CONNECTIONS.labels(protocol=name).inc()
            metrics.ACTIVE.labels(protocol=name).inc()
            started = time.monotonic()
            try:
                plugin.serve(sock, address, self.ctx)
            except Exception:  # noqa: BLE001 - a plugin bug ends one connection, never the process
                log.exception("connection handler crashed", extra={"listener": name, "client": address[0]})
            finally:
                metrics.ACTIVE.labels(protocol=name).dec()
                metrics.SESSION_SECONDS.labels(protocol=name).observe(time.monotonic() - started)
                try:
                    sock.close()
                except OSError:
                    pass
        return handle

    def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, wait up to ``grace`` for sessions, kill the rest, flush sinks.
        A second call (a second SIGTERM) waits for the first instead of racing it."""
        if self._stopping:
            self._stopped.wait()
            return
        self._stopping = True
        if self.ctx.readiness is not None:  # /healthz answers 503 now: the balancer stops sending
            self.ctx.readiness.force("draining", "the bastion is stopping (drain)")
        for name, server in self.servers.items():
            if name in self.pools:
                server.close()  # stop accepting; live connections keep running
        deadline = time.monotonic() + grace
        for pool in self.pools.values():
            pool.join(timeout=max(0.0, deadline - time.monotonic()))
        self._end_open_sessions()
        for pool in self.pools.values():
            pool.kill(timeout=2)
        web = self.servers.get("web")
        if web is not None:
            web.stop(timeout=2)
        if self.ctx.liveness is not None:
            self.ctx.liveness.stop()
        if self.ctx.readiness is not None:
            self.ctx.readiness.stop()
        for sink in self.ctx.sinks:
            try:
                sink.close()
            except Exception:  # noqa: BLE001
                log.exception("closing sink %s failed", sink.name)
        if self.audit is not None:
            self.audit.stop()  # after the sinks: the last events get indexed too
        self.ctx.store.dispose()
        self._stopped.set()
        log.info("stopped")

    def _end_open_sessions(self) -> None:
        """The drain is over: end every session still open, recording why
        (:data:`DRAIN_REASON`), and give them :data:`END_WAIT` seconds to do so."""
        live = self.ctx.liveness
        if live is None or not live.open:
            return
        log.info("drain over: ending %d open session(s)", len(live.open))
        for sess in list(live.open.values()):
            if sess.end_request is None:
                sess.terminate(DRAIN_REASON)
        deadline = time.monotonic() + END_WAIT
        for pool in self.pools.values():
            pool.join(timeout=max(0.0, deadline - time.monotonic()))

    def serve_forever(self, grace: float = 10.0) -> None:
        """Run until SIGTERM/SIGINT, then stop gracefully."""
        def on_signal() -> None:
            log.info("signal received, stopping")
            gevent.spawn(self.stop, grace)

        gevent.signal_handler(signal.SIGTERM, on_signal)
        gevent.signal_handler(signal.SIGINT, on_signal)
        self._stopped.wait()
