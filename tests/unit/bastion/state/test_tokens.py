from __future__ import annotations

import time

import pytest

from bastion.state.store import StateStore
from bastion.state.tokens import TokenStore, native_hash


@pytest.fixture
def tokens(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    store.migrate()
    yield TokenStore(store, keep_native_hash=True)
    store.dispose()


def test_issue_and_verify(tokens):
    token, info = tokens.issue("alice", {"dba", "admins"}, 60, email="a@x", reason="TICKET-1")
    assert token.startswith("bst_")
    got = tokens.verify(token)
    assert got is not None and got.user == "alice" and got.groups == {"dba", "admins"}
    assert got.reason == "TICKET-1" and got.id == info.id
    assert got.identity().idp == "token"


def test_only_hash_is_stored(tokens):
    token, _ = tokens.issue("alice", set(), 60)
    with tokens.store.engine.connect() as conn:
        dump = "\n".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM tokens"))
    assert token not in dump and token.split("_")[-1] not in dump


@pytest.mark.parametrize("bad", ["", "bst_", "bst_xx_yy", "not-a-token", "bst_" + "a" * 300])
def test_unknown_tokens_fail(tokens, bad):
    tokens.issue("alice", set(), 60)
    assert tokens.verify(bad) is None


def test_expiry(tokens, monkeypatch):
    token, _ = tokens.issue("alice", set(), 5)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 10)
    assert tokens.verify(token) is None


def test_revoke(tokens):
    token, info = tokens.issue("alice", set(), 60)
    assert not tokens.revoke(info.id, user="bob")
    assert tokens.revoke(info.id, user="alice")
    assert tokens.verify(token) is None
    assert not tokens.revoke(info.id)
    assert [t.id for t in tokens.list("alice", include_inactive=True)] == [info.id]
    assert tokens.list("alice") == []


def test_native_hash_kept_only_when_enabled(tokens):
    token, _ = tokens.issue("alice", set(), 60)
    cands = tokens.native_candidates("alice")
    assert [h for _, h in cands] == [native_hash(token)]


def test_ttl_must_be_positive(tokens):
    with pytest.raises(ValueError):
        tokens.issue("alice", set(), 0)
