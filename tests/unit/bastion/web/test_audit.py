"""The audit dashboard (bastion/web/audit.py) over an sqlite index, as registered by create_app."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import pytest

from bastion.audit.backends.sqlite import SQLiteBackend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import Journal
from bastion.audit.search import AuditSearch
from bastion.core.contracts import AuditEvent
from bastion.web import recordings

CAST = '{"version": 2, "width": 80, "height": 24, "timestamp": 0}\n[0.1, "o", "hello from the shell\\r\\n"]\n'


@pytest.fixture
def audit_web(web, tmp_path):
    journal = Journal(tmp_path / "audit", fsync=False)
    now = time.time() - 60
    casts = web.ctx.settings.state_dir / "recordings"
    casts.mkdir(parents=True)
    (casts / "s2-1.cast").write_text(CAST)
    outside = tmp_path / "elsewhere.cast"
    outside.write_text(CAST)
    (casts / "s2-7.cast").symlink_to(outside)

    def emit(type_: str, sid: str, **data):
        journal.append(asdict(AuditEvent(type=type_, session_id=sid, at=now + journal.seq, data=data)))

    emit("session.start", "s1", protocol="mysql", user="alice", target="shop-db", account="admin")
    emit("query", "s1", statement="SELECT <b>email</b> FROM customers", verdict="allow", rule="dba-admin")
    for i in range(60):
        emit("query", "s1", statement=f"SELECT {i} FROM paged", verdict="allow", rule="dba-admin")
    emit("session.start", "s2", protocol="ssh", user="bob", target="demo-host", account="deploy")
    emit("recording", "s2", channel=1, path=str(casts / "s2-1.cast"), format="asciicast-v2", duration_s=0.1)
    emit("recording", "s2", channel=3, path=str(outside), format="asciicast-v2", duration_s=0.1)
    emit("recording", "s2", channel=7, path=str(casts / "s2-7.cast"), format="asciicast-v2", duration_s=0.1)
    backend = SQLiteBackend(tmp_path / "audit" / "audit.db")
    Indexer(tmp_path / "audit", backend).catch_up()
    web.ctx.audit_search = AuditSearch(backend)
    return web


def test_only_auditors_and_admins(audit_web):
    resp = audit_web.client.get("/audit/?q=x")
    assert resp.status_code == 302 and "/saml/login?next=/audit/?q%3Dx" in resp.headers["Location"]
    assert audit_web.client.get("/audit/sessions/s2/recordings/1.cast").status_code == 302
    audit_web.login(user="bob", groups=("developers",))
    for path in ("/audit/", "/audit/live", "/audit/sessions/s1", "/audit/export.csv",
                 "/audit/sessions/s2/recordings/1.cast"):
        assert audit_web.client.get(path).status_code == 403, path
    assert 'href="/audit/"' not in audit_web.client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("groups", [("auditors",), ("admins",)])
def test_nav_link_for_auditors_and_admins(audit_web, groups):
    audit_web.login(user="carol", groups=groups)
    assert '<a href="/audit/"' in audit_web.client.get("/").get_data(as_text=True)
    assert audit_web.client.get("/audit/").status_code == 200


def test_search_page_highlights_and_escapes(audit_web):
    audit_web.login(user="carol", groups=("auditors",))
    page = audit_web.client.get("/audit/", query_string={"q": "customers"}).get_data(as_text=True)
    assert "<mark>customers</mark>" in page and "&lt;b&gt;email&lt;/b&gt;" in page and "<b>email</b>" not in page
    assert "/audit/sessions/s1" in page


def test_pagination_timeline_live_and_export(audit_web):
    audit_web.login(user="carol", groups=("auditors",))
    first = audit_web.client.get("/audit/", query_string={"q": "paged"}).get_data(as_text=True)
    assert 'id="next-page"' in first and "60 matching events" in first
    live = audit_web.client.get("/audit/live").get_data(as_text=True)
    assert "alice" in live and "/audit/sessions/s1" in live
    timeline = audit_web.client.get("/audit/sessions/s1").get_data(as_text=True)
    assert timeline.count("<tr>") == 63  # header + start + 61 queries
    assert 'id="recordings"' not in timeline
    assert audit_web.client.get("/audit/sessions/nope").status_code == 404
    csv_resp = audit_web.client.get("/audit/export.csv", query_string={"q": "paged"})
    assert csv_resp.status_code == 200 and csv_resp.get_data(as_text=True).count("\n") == 61
    lines = audit_web.client.get("/audit/export.json", query_string={"user": "alice"}).get_data(as_text=True)
    assert {json.loads(line)["session"] for line in lines.splitlines()} == {"s1"}
    assert audit_web.client.get("/audit/", query_string={"after": "garbage"}).status_code == 400


def test_session_page_embeds_a_player_per_recording(audit_web, monkeypatch):
    monkeypatch.setattr(recordings, "player_installed", lambda: True)
    audit_web.login(user="carol", groups=("auditors",))
    resp = audit_web.client.get("/audit/sessions/s2")
    page = resp.get_data(as_text=True)
    assert 'data-cast-url="/audit/sessions/s2/recordings/1.cast"' in page
    assert "/static/vendor/asciinema-player.min.js" in page and "/static/replay.js" in page
    assert "<script>" not in page and " style=" not in page
    assert resp.headers["Content-Security-Policy"] == recordings.PLAYER_CSP
    assert "'unsafe-inline'" not in recordings.PLAYER_CSP and "'unsafe-eval'" not in recordings.PLAYER_CSP
    # other pages keep the strict policy
    assert "wasm" not in audit_web.client.get("/audit/").headers["Content-Security-Policy"]


def test_session_page_without_the_player_files(audit_web, monkeypatch):
    monkeypatch.setattr(recordings, "player_installed", lambda: False)
    audit_web.login(user="carol", groups=("auditors",))
    resp = audit_web.client.get("/audit/sessions/s2")
    page = resp.get_data(as_text=True)
    assert "scripts/install.sh" in page and "data-cast-url" not in page and "asciinema-player.min.js" not in page
    assert "wasm" not in resp.headers["Content-Security-Policy"]


def test_recording_is_served_only_through_its_event(audit_web):
    audit_web.login(user="carol", groups=("auditors",))
    resp = audit_web.client.get("/audit/sessions/s2/recordings/1.cast")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == CAST
    assert resp.mimetype == "application/x-asciicast"
    assert audit_web.client.get("/audit/sessions/s2/recordings/2.cast").status_code == 404  # no such event
    assert audit_web.client.get("/audit/sessions/s2/recordings/3.cast").status_code == 404  # outside recordings/
    assert audit_web.client.get("/audit/sessions/s2/recordings/7.cast").status_code == 404  # a symlink
    assert audit_web.client.get("/audit/sessions/s1/recordings/1.cast").status_code == 404  # other session
    assert audit_web.client.get("/audit/sessions/s2/recordings/..%2F..%2Fetc.cast").status_code == 404


def test_metrics_show_the_indexer_lag(web, tmp_path):
    journal = Journal(tmp_path / "audit", fsync=False)
    for i in range(5):
        journal.append(asdict(AuditEvent(type="query", session_id="s", at=time.time(), data={"statement": str(i)})))
    indexer = Indexer(tmp_path / "audit", SQLiteBackend(tmp_path / "audit" / "audit.db"), batch_size=2)
    indexer.step()
    indexer._measure(caught_up=False)
    assert "bastion_audit_index_lag_events 3.0" in web.client.get("/metrics").get_data(as_text=True)
    indexer.catch_up()
    indexer._measure(caught_up=True)
    assert "bastion_audit_index_lag_events 0.0" in web.client.get("/metrics").get_data(as_text=True)
    indexer.close()


def test_recorded_reads_refused_while_the_audit_trail_is_down(audit_web):
    audit_web.login(user="carol", groups=("auditors",))
    audit_web.ctx.audit_failure = "journal: OSError: [Errno 5] Input/output error"
    try:
        assert audit_web.client.get("/audit/export.csv", query_string={"q": "paged"}).status_code == 503
        assert audit_web.client.get("/audit/sessions/s2/recordings/1.cast").status_code == 503
        assert audit_web.client.get("/audit/", query_string={"q": "paged"}).status_code == 200  # searching is not
    finally:
        audit_web.ctx.audit_failure = None
    assert audit_web.client.get("/audit/export.csv", query_string={"q": "paged"}).status_code == 200
