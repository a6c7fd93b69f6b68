"""`bastion serve` end to end: health, metrics, graceful SIGTERM."""

from __future__ import annotations

import urllib.request

from tests.integration.conftest import BastionProc


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read().decode()


def test_healthz_and_metrics(bastion: BastionProc) -> None:
    status, body = get(f"http://127.0.0.1:{bastion.ports['web']}/healthz")
    assert status == 200 and '"status":"ok"' in body.replace(" ", "")
    status, body = get(f"http://127.0.0.1:{bastion.ports['web']}/metrics")
    assert status == 200
    assert "bastion_connections_total" in body and "bastion_active_connections" in body


def test_logs_are_json(bastion: BastionProc) -> None:
    import json

    lines = [line for line in bastion.log_text().splitlines() if line.startswith("{")]
    assert lines, "no structured log lines"
    assert all("level" in json.loads(line) for line in lines)
