"""``bastion indexer``: the audit indexer in a process of its own (started by ``bastion serve``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.audit.journal import Journal
from bastion.audit.service import LOCK, read_status

ROOT = Path(__file__).resolve().parents[4]


def wait_for(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not true within {timeout} s")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "var"), "listeners": {},
                                    "audit": {"index": {"poll_interval": 0.1}}}))
    return path


def journal(tmp_path: Path, n: int) -> Journal:
    j = Journal(tmp_path / "var" / "audit", fsync=False)
    for i in range(n):
        j.append({"type": "session.start", "session_id": f"s{i}", "at": time.time(), "id": f"e{i}", "schema": 1,
                  "data": {"user": "bob", "target": "shop-db"}})
    return j


def indexer(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bastion.cli", "indexer", "--config", str(config), *extra],
                            cwd=ROOT, stdin=subprocess.DEVNULL)


def indexed(directory: Path) -> int:
    status = read_status(directory)
    return int(status["indexed_seq"]) if status else -1


def test_the_indexer_process_indexes_every_journal_record_and_stops_on_sigterm(tmp_path, config):
    j = journal(tmp_path, 5)
    proc = indexer(config)
    try:
        wait_for(lambda: indexed(j.dir) == 5)
        for i in range(5, 8):
            j.append({"type": "session.end", "session_id": f"s{i}", "at": time.time(), "data": {}})
        wait_for(lambda: indexed(j.dir) == 8)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    from bastion.audit.backends.sqlite import SQLiteBackend
    from bastion.audit.query import Search

    backend = SQLiteBackend(j.dir / "audit.db")
    assert backend.search(Search(size=50)).total == 8
    backend.close()


def test_a_second_indexer_waits_for_the_first(tmp_path, config):
    j = journal(tmp_path, 3)
    first = indexer(config)
    second = None
    try:
        wait_for(lambda: indexed(j.dir) == 3)
        second = indexer(config)
        time.sleep(3)
        assert second.poll() is None  # still waiting for indexer.lock
        import fcntl

        with open(j.dir / LOCK) as fh, pytest.raises(BlockingIOError):
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the first one holds it
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
        j.append({"type": "session.end", "session_id": "s0", "at": time.time(), "data": {}})
        wait_for(lambda: indexed(j.dir) == 4)  # the second took over
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)


def test_the_indexer_dies_with_its_bastion(tmp_path, config):
    """``kill -9`` of ``bastion serve`` must not leave its indexer running (the next start's
    indexer would otherwise wait forever for the lock)."""
    j = journal(tmp_path, 2)
    # a stand-in for `bastion serve`: starts the indexer as its child, then is killed -9
    parent = subprocess.Popen([sys.executable, "-c", (
        "import os, subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-m', 'bastion.cli', 'indexer', '--config', {str(config)!r},"
        " '--parent', str(os.getpid())])\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(600)\n")], cwd=ROOT, stdout=subprocess.PIPE)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        wait_for(lambda: indexed(j.dir) == 2)
        parent.kill()
        parent.wait()
        wait_for(lambda: not _alive(child), timeout=30)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not reaped: its parent is gone, init reaps it soon) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_serve_supervises_its_indexer_restarts_it_and_stops_it(tmp_path, config, monkeypatch):
    import gevent

    from bastion.audit import service
    from bastion.config.load import load_settings

    monkeypatch.setattr(service, "STATUS_EVERY", 0.2)
    monkeypatch.chdir(ROOT)
    j = journal(tmp_path, 2)
    ctx = type("Ctx", (), {"settings": load_settings(str(config), known_protocols={"mysql", "ssh"}),
                           "audit_service": None})()
    supervisor = service.start(ctx)  # type: ignore[arg-type]
    assert isinstance(supervisor, service.IndexerSupervisor) and ctx.audit_service is supervisor

    def wait(check: Callable[[], Any], timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            gevent.sleep(0.1)
        raise AssertionError(f"not true within {timeout} s")

    try:
        wait(lambda: indexed(j.dir) == 2)
        first = supervisor.proc
        assert first is not None
        first.kill()  # the indexer dies: serve starts another one
        wait(lambda: supervisor.proc is not first and supervisor.proc is not None)
        j.append({"type": "session.end", "session_id": "s0", "at": time.time(), "data": {}})
        wait(lambda: indexed(j.dir) == 3)
        assert supervisor.restarts == 1
        from bastion.runtime.metrics import AUDIT_INDEX_LAG

        wait(lambda: AUDIT_INDEX_LAG._value.get() == 0)  # copied from the child's status
    finally:
        supervisor.stop()
    assert supervisor.proc is not None and supervisor.proc.returncode == 0  # stopped by SIGTERM, not killed


def test_retention_without_an_index_covers_the_worker_journals(config: Path) -> None:
    from bastion.audit.service import AuditService
    from bastion.runtime.bootstrap import load_checked, minimal_context

    settings, _ = load_checked(str(config))
    main = Path(settings.config.audit.journal_dir)
    journal = Journal(main / "worker-1", fsync=False)
    journal.append({"type": "x", "session_id": "", "at": 0.0, "data": {}})
    journal.close()
    service = AuditService(minimal_context(settings), None)
    assert service._retained() == [(main, None), (main / "worker-1", None)]
