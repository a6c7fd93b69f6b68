"""Readiness: which check fails when the state store, the journal or the index is not
fit, what /healthz and a refused client are told, and recovery."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from bastion.audit.service import STATUS
from bastion.config.load import Settings
from bastion.config.model import AuditConfig, AuditIndexConfig, BastionConfig, ReadinessConfig, ServerConfig
from bastion.context import PluginContext
from bastion.runtime.readiness import Readiness
from bastion.state.store import StateStore
from policies.files import PolicySet


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[PluginContext]:
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    store.migrate()
    journal = tmp_path / "audit"
    journal.mkdir()
    config = BastionConfig(state_dir=str(tmp_path), audit=AuditConfig(journal_dir=str(journal)),
                           server=ServerConfig(node_id="n1", readiness=ReadinessConfig(max_index_lag=100,
                                                                                      max_status_age=5)))
    c = PluginContext(settings=Settings(config, PolicySet(), tmp_path / "bastion.yaml"), store=store,
                      tokens=None, vault=None, node="n1")  # type: ignore[arg-type]
    c.sinks = [SimpleNamespace(name="journal")]  # type: ignore[list-item]
    yield c
    store.dispose()


def status(ctx: PluginContext, lag: int, age: float = 0.0) -> None:
    path = Path(ctx.settings.config.audit.journal_dir) / STATUS
    path.write_text(json.dumps({"lag": lag}))
    os.utime(path, (time.time() - age, time.time() - age))


def test_ready_when_all_is_well(ctx: PluginContext) -> None:
    r = Readiness(ctx)
    assert r.check_now() and r.ready and r.reason() == "ready"
    assert r.report() == {"status": "ok", "node": "n1", "failed": [], "checked_at": r.report()["checked_at"],
                          "checks": {"state_store": {"ok": True}, "journal": {"ok": True}, "index": {"ok": True}}}
    assert not list(Path(ctx.settings.config.audit.journal_dir).glob(".ready-*"))  # the probe leaves nothing


def test_a_dropped_state_store_is_not_ready_and_recovery_is_noticed(ctx: PluginContext) -> None:
    r = Readiness(ctx)
    with ctx.store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE meta RENAME TO meta_gone")
    assert not r.check_now()
    assert r.failed == ["state_store"] and r.reason() == "state store unreachable"
    body = r.report()
    assert body["status"] == "not ready" and body["checks"]["state_store"] == {"ok": False,
                                                                             "error": "state store unreachable"}
    assert "meta" not in json.dumps(body)  # internals stay in the log
    with ctx.store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE meta_gone RENAME TO meta")
    assert r.check_now() and r.ready


def test_an_unreachable_state_store(ctx: PluginContext, tmp_path: Path) -> None:
    ctx.store = StateStore(f"sqlite:///{tmp_path}/missing-dir/state.db")
    assert not Readiness(ctx).check_now()


@pytest.mark.parametrize("breakage", ["gone", "audit_failure"])
def test_an_unwritable_journal_is_not_ready(ctx: PluginContext, breakage: str) -> None:
    if breakage == "gone":
        shutil.rmtree(ctx.settings.config.audit.journal_dir)
    else:
        ctx.audit_failure = "journal: OSError: disk full"
    r = Readiness(ctx)
    assert not r.check_now() and r.failed == ["journal"] and r.reason() == "audit journal not writable"


@pytest.mark.parametrize(("lag", "age", "ready"), [
    (100, 0, True),      # at the bound
    (101, 0, False),     # over it
    (0, 60, False),      # the indexer stopped reporting
])
def test_index_lag_bound(ctx: PluginContext, lag: int, age: float, ready: bool) -> None:
    r = Readiness(ctx)
    r.started = time.time() - 600
    status(ctx, lag, age)
    assert r.check_now() is ready
    assert r.failed == ([] if ready else ["index"])


def test_a_report_older_than_this_run_waits_for_the_new_indexer(ctx: PluginContext) -> None:
    status(ctx, 10_000, age=30)  # left by the previous run
    r = Readiness(ctx)
    assert r.check_now()
    r.started = time.time() - 10  # still nothing new after max_status_age
    assert not r.check_now() and r.reason() == "audit indexer not running"


def test_index_checks_can_be_off(ctx: PluginContext) -> None:
    cfg = ctx.settings.config
    off = dataclasses.replace(cfg, audit=dataclasses.replace(cfg.audit, index=AuditIndexConfig(backend="none")))
    ctx.settings = dataclasses.replace(ctx.settings, config=off)
    status(ctx, 10_000)
    assert Readiness(ctx).check_now()


def test_the_runtime_can_force_not_ready_at_once(ctx: PluginContext) -> None:
    r = Readiness(ctx)
    r.check_now()
    r.force("draining", "shutting down")
    assert not r.ready and r.failed == ["draining"] and r.reason() == "shutting down"
    assert not r.check_now()  # the periodic round keeps it
    r.force("draining", None)
    assert r.ready and r.check_now()


@pytest.mark.parametrize(("journal", "indexed"), [
    ("/var/audit", "/var/audit"),
    ("/var/audit/worker-0", "/var/audit"),
    ("/var/audit/worker-12", "/var/audit"),
    ("/var/audit/worker-x", "/var/audit/worker-x"),
    ("/var/audit/web-123", "/var/audit/web-123"),
])
def test_a_worker_reads_the_node_indexers_report(journal: str, indexed: str) -> None:
    from bastion.runtime.readiness import _indexed_dir

    assert _indexed_dir(Path(journal)) == Path(indexed)
