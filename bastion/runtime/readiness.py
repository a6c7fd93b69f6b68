"""Whether this node takes new connections: readiness, checked every few seconds.

A node is ready when
* ``state_store``: the shared state store answers a read of its schema version within
  ``server.readiness.timeout`` (tokens, approvals, connection ids all live there; a store
  dropped or unreachable fails this, not only a dead server);
* ``journal``: the audit journal is writable — no required sink failed its last write,
  and a probe file in the journal directory can be written and fsynced;
* ``index``: the audit index is at most ``max_index_lag`` journal records behind, by the
  indexer process's last report, which must be younger than ``max_status_age`` (no
  report yet while it starts is fine; with ``audit.index.backend: none`` or
  ``max_index_lag: 0`` this check is skipped).

:class:`Readiness` runs the checks in a greenlet every ``server.readiness.interval``
seconds; the listeners only read :attr:`Readiness.ready` (no I/O per connection) and,
while it is false, turn every new connection away with the protocol's own error
(:meth:`bastion.runtime.server.Bastion`'s handler): fail closed. Open sessions go on;
each request still passes the pipeline (the audit gate refuses while the journal is
down). ``/healthz`` reports the last result (503 and which checks failed while not ready),
so a load balancer sends new connections elsewhere. Transitions are logged with the cause.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent
import sqlalchemy as sa

from bastion.audit.segments import WORKER_PREFIX
from bastion.audit.service import STATUS, read_status
from bastion.config.model import ReadinessConfig
from bastion.state.store import meta

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.readiness")


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: str = ""
    """For the log (may name internals)."""
    public: str = ""
    """For ``/healthz`` and refused clients: what failed, without internals."""


class Readiness:
    def __init__(self, ctx: PluginContext, cfg: ReadinessConfig | None = None) -> None:
        self.ctx = ctx
        self.cfg = cfg or ctx.settings.config.server.readiness
        self.checks: dict[str, Check] = {}
        self.checked_at = 0.0
        self.started = time.time()
        self.forced: dict[str, Check] = {}
        """Checks the runtime sets by itself (e.g. ``draining`` after SIGTERM): see :meth:`force`."""
        self._greenlet: gevent.Greenlet | None = None

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, c in self.checks.items() if not c.ok]

    def reason(self) -> str:
        """Why not ready, for a refused client."""
        return "; ".join(self.checks[name].public for name in self.failed) or "ready"

    def check_now(self) -> bool:
        """Run every check; log a change of state (with the cause); returns ready."""
        was_ready, was_failed = self.ready, self.failed
        self.checks = {"state_store": self._state_store(), "journal": self._journal(), "index": self._index(),
                       **self.forced}
        self.checked_at = time.time()
        failed = self.failed
        if failed and failed != was_failed:
            details = "; ".join(f"{n}: {self.checks[n].detail}" for n in failed)
            log.error("not ready, refusing new connections: %s", details, extra={"failed": failed})
        elif not failed and not was_ready:
            log.warning("ready again: taking new connections")
        return not failed

    def force(self, name: str, why: str | None) -> None:
        """Make this node not ready for ``why`` (e.g. ``force("draining", "shutting down")``
        when a drain starts: the balancer stops sending new connections at once), or ready
        again as far as ``name`` goes (``why=None``). Takes effect now, not at the next round."""
        if why is None:
            self.forced.pop(name, None)
            self.checks.pop(name, None)
        else:
            self.forced[name] = self.checks[name] = Check(False, why, why)
            log.warning("not ready, refusing new connections: %s: %s", name, why)

    def start(self) -> None:
        self.check_now()
        self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def _loop(self) -> None:
        while True:
            gevent.sleep(self.cfg.interval)
            try:
                self.check_now()
            except Exception:  # noqa: BLE001 - a bug in a check must not freeze the last answer
                log.exception("readiness check failed")
                self.checks = {"readiness": Check(False, "the checks themselves failed", "checks failed")}

    def report(self) -> dict[str, Any]:
        """The ``/healthz`` body."""
        return {"status": "ok" if self.ready else "not ready", "node": self.ctx.node, "failed": self.failed,
                "checked_at": round(self.checked_at, 3),
                "checks": {n: {"ok": c.ok, **({"error": c.public} if not c.ok else {})}
                           for n, c in self.checks.items()}}

    # ------------------------------------------------------------------ the checks

    def _state_store(self) -> Check:
        try:
            with gevent.Timeout(self.cfg.timeout), self.ctx.store.engine.connect() as conn:
                version = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        except gevent.Timeout:
            return Check(False, f"no answer within {self.cfg.timeout:g} s", "state store unreachable")
        except Exception as exc:  # noqa: BLE001 - any failure is "not reachable"
            return Check(False, f"{type(exc).__name__}: {_first_line(exc)}", "state store unreachable")
        if version is None:
            return Check(False, "no schema version (the database was emptied?)", "state store not initialised")
        return Check(True)

    def _journal(self) -> Check:
        if self.ctx.audit_failure is not None:
            return Check(False, self.ctx.audit_failure, "audit journal not writable")
        if not any(getattr(sink, "name", "") == "journal" for sink in self.ctx.sinks):
            return Check(True)  # no journal here (a test's sinks): nothing to probe
        probe = Path(self.ctx.settings.config.audit.journal_dir) / f".ready-{os.getpid()}"
        try:  # a full or read-only disk, a directory gone: what the next record would meet
            # in the hub's thread pool: an fsync on a busy disk must not stop every session
            gevent.get_hub().threadpool.apply(_probe, (probe,))
        except OSError as exc:
            return Check(False, f"probe {probe}: {exc.strerror or exc}", "audit journal not writable")
        return Check(True)

    def _index(self) -> Check:
        audit = self.ctx.settings.config.audit
        if audit.index.backend == "none" or not self.cfg.max_index_lag:
            return Check(True)
        journal_dir = _indexed_dir(Path(audit.journal_dir))
        status = read_status(journal_dir)
        try:
            reported = (journal_dir / STATUS).stat().st_mtime
        except OSError:
            reported = 0.0
        if status is None or reported < self.started:  # nothing yet from this run's indexer
            waited = time.time() - self.started
            if waited <= self.cfg.max_status_age:
                return Check(True)
            return Check(False, f"no report from the indexer in {waited:.0f} s", "audit indexer not running")
        age = time.time() - reported
        if age > self.cfg.max_status_age:
            return Check(False, f"the indexer's last report is {age:.0f} s old", "audit indexer not running")
        lag = int(status.get("lag", 0))
        if lag > self.cfg.max_index_lag:
            return Check(False, f"{lag} journal records not indexed (bound {self.cfg.max_index_lag})",
                         "audit index too far behind")
        return Check(True)


def _indexed_dir(journal_dir: Path) -> Path:
    """Where the node's indexer reports: a worker journals in ``journal_dir/worker-I`` while
    the supervisor's one indexer reports in ``journal_dir`` itself."""
    if journal_dir.name.startswith(WORKER_PREFIX) and journal_dir.name[len(WORKER_PREFIX):].isdigit():
        return journal_dir.parent
    return journal_dir


def _probe(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"ready\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # SQLAlchemy's wrapper: the driver's own message, without the SQL
    lines = str(orig if orig is not None else exc).splitlines()
    return lines[0][:300] if lines else ""


def refuse_unready(plugin: Any, sock: Any, address: tuple[str, int], reason: str) -> None:
    """Turn a new connection away while not ready: with the protocol's own error if the
    plugin has ``refuse(sock, address, reason)``, else by closing it."""
    from bastion.runtime import metrics

    metrics.REFUSED.labels(reason="not_ready").inc()
    log.info("connection refused: not ready (%s)", reason, extra={"client": address[0]})
    refuse = getattr(plugin, "refuse", None)
    try:
        if refuse is not None:
            refuse(sock, address, reason)
    except Exception:  # noqa: BLE001 - the refusal is best effort; the socket closes anyway
        log.debug("refusal message not sent", exc_info=True)
    finally:
        try:
            sock.close()
        except OSError:
            pass
