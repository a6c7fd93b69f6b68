"""The supervisor's own steps: binding every listener once, the metrics directory."""

from __future__ import annotations

import socket

import yaml

from bastion.config.load import load_settings
from bastion.runtime.supervisor import bind, multiprocess_metrics


def test_bind_opens_every_enabled_listener_once(tmp_path):
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "var"), "listeners": {
        "web": {"port": 0}, "mysql": {"port": 0}, "ssh": {"port": 0, "enabled": False}}}))
    sockets = bind(load_settings(path, known_protocols={"mysql", "ssh"}))
    try:
        assert set(sockets) == {"web", "mysql"}
        for sock in sockets.values():
            with socket.create_connection(sock.getsockname(), timeout=5):
                pass  # listening (the kernel completes the handshake into the backlog)
    finally:
        for sock in sockets.values():
            sock.close()


def test_the_metrics_directory_starts_empty_and_private(tmp_path):
    stale = tmp_path / "metrics" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_text("from a previous run")
    directory = multiprocess_metrics(str(tmp_path))
    assert directory == tmp_path / "metrics" and list(directory.iterdir()) == []
    assert directory.stat().st_mode & 0o077 == 0
