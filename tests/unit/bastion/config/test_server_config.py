"""``server``: worker count (an integer or ``auto``) and drain seconds."""

from __future__ import annotations

import os

import pytest

from bastion.config.load import load_settings
from tests.unit.bastion.config.test_load import GOOD, errors_for, write


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
