"""``server``: the node id (the registry's cleanup key) and the readiness bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.config.load import load_settings
from bastion.config.schema import ConfigError
from tests.unit.bastion.config.test_load import ACCESS, GOOD, write


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
