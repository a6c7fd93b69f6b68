"""``server``: worker count (an integer or ``auto``), drain seconds, the node id (the
registry's cleanup key) and the readiness bounds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastion.config.load import load_settings
from bastion.config.schema import ConfigError
from tests.unit.bastion.config.test_load import ACCESS, GOOD, errors_for, write


@pytest.mark.parametrize(
    ("server", "workers", "drain"),
    [
        ("", 1, 10.0),
        ("server: {workers: 3}\n", 3, 10.0),
        ("server: {workers: auto, drain_seconds: 2}\n", os.cpu_count() or 1, 2.0),
        ("server: {drain_seconds: 0}\n", 1, 0.0),
    ],
    ids=["defaults", "three", "auto", "no-drain"],
)
def test_server_settings(tmp_path, server, workers, drain):
    cfg = load_settings(write(tmp_path, GOOD + server), known_protocols={"mysql"}).config.server
    assert cfg.worker_count() == workers
    assert cfg.drain_seconds == drain


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("server: {workers: 0}\n", "workers must be at least 1"),
        ("server: {workers: many}\n", "server.workers: expected an integer, got the string 'many' or must be one of"),
        ("server: {workers: true}\n", "server.workers: expected an integer"),
        ("server: {workers: 2.5}\n", "server.workers: expected an integer"),
        ("server: {drain_seconds: -1}\n", "drain_seconds must not be negative"),
        ("server: {grace: 3}\n", "server.grace: unknown key"),
    ],
    ids=["zero", "word", "bool", "float", "negative-drain", "unknown-key"],
)
def test_server_errors(tmp_path, server, expected):
    errors = errors_for(tmp_path, GOOD + server)
    assert any(expected in e for e in errors), errors


def test_defaults(tmp_path: Path) -> None:
    server = load_settings(write(tmp_path), known_protocols={"mysql"}).config.server
    assert server.node_id == "" and server.readiness.interval == 2.0 and server.readiness.max_index_lag == 100_000


@pytest.mark.parametrize(("server", "ok"), [
    ("{node_id: node-a, readiness: {interval: 0.5, max_index_lag: 0}}", True),
    ("{node_id: 'node a'}", False),          # spaces
    ("{node_id: node/a}", False),            # '/' is kept for worker suffixes
    ("{node_id: " + "n" * 101 + "}", False),
    ("{readiness: {interval: 0}}", False),
    ("{readiness: {max_index_lag: -1}}", False),
    ("{readiness: {timeout: -1}}", False),
    ("{readiness: {bogus: 1}}", False),
])
def test_validation(tmp_path: Path, server: str, ok: bool) -> None:
    path = write(tmp_path, GOOD + f"server: {server}\n", ACCESS)
    if ok:
        assert load_settings(path, known_protocols={"mysql"}).config.server.node_id == "node-a"
    else:
        with pytest.raises(ConfigError, match="server"):
            load_settings(path, known_protocols={"mysql"})


def test_each_worker_registers_under_its_own_node_name(tmp_path: Path) -> None:
    from bastion.runtime.bootstrap import node_name

    settings = load_settings(write(tmp_path, GOOD + "server: {node_id: node-a}\n", ACCESS), known_protocols={"mysql"})
    assert node_name(settings) == "node-a"
    assert [node_name(settings, i) for i in (0, 1)] == ["node-a/worker-0", "node-a/worker-1"]
