"""The audit blueprint (bastion/web/audit.py) over an sqlite index, registered on the test app."""

from __future__ import annotations

import time
from dataclasses import asdict

import pytest

from bastion.audit.backends.sqlite import SQLiteBackend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import Journal
from bastion.audit.search import AuditSearch
from bastion.core.contracts import AuditEvent
from bastion.web.audit import bp


@pytest.fixture
def audit_web(web, tmp_path):
    web.app.register_blueprint(bp)
    journal = Journal(tmp_path / "audit", fsync=False)
    now = time.time() - 60

    def emit(type_: str, sid: str, **data):
        journal.append(asdict(AuditEvent(type=type_, session_id=sid, at=now + journal.seq, data=data)))

    emit("session.start", "s1", protocol="mysql", user="alice", target="shop-db", account="admin")
    emit("query", "s1", statement="SELECT <b>email</b> FROM customers", verdict="allow", rule="dba-admin")
    for i in range(60):
        emit("query", "s1", statement=f"SELECT {i} FROM paged", verdict="allow", rule="dba-admin")
    backend = SQLiteBackend(tmp_path / "audit" / "audit.db")
    Indexer(tmp_path / "audit", backend).catch_up()
    web.ctx.services["audit_search"] = AuditSearch(backend)
    return web


def test_only_auditors_and_admins(audit_web):
    assert audit_web.client.get("/audit/").status_code == 401
    audit_web.login(user="bob", groups=("developers",))
    assert audit_web.client.get("/audit/").status_code == 403


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
    assert audit_web.client.get("/audit/sessions/nope").status_code == 404
    csv_resp = audit_web.client.get("/audit/export.csv", query_string={"q": "paged"})
    assert csv_resp.status_code == 200 and csv_resp.get_data(as_text=True).count("\n") == 61
    assert audit_web.client.get("/audit/", query_string={"after": "garbage"}).status_code == 400
