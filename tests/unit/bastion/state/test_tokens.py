from __future__ import annotations

import hashlib
import time

import pytest
from pymysql._auth import scramble_native_password

from bastion.state.store import StateStore
from bastion.state.tokens import TokenStore, native_hash


@pytest.fixture
def tokens(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    store.migrate()
    yield TokenStore(store)
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


def test_native_hash_is_the_double_sha1(tokens):
    token, _ = tokens.issue("alice", set(), 60)
    cands = tokens.native_candidates("alice")
    assert [h for _, h in cands] == [native_hash(token)]
    assert native_hash(token) == hashlib.sha1(hashlib.sha1(token.encode()).digest()).hexdigest()
    assert tokens.native_candidates("bob") == []


SALT = b"0123456789abcdefghij"


def test_native_scramble_verifies(tokens):
    """PyMySQL's mysql_native_password scramble (the client side) is the oracle."""
    token, info = tokens.issue("alice", {"dba"}, 60)
    tokens.issue("bob", {"dba"}, 60)  # another candidate that must not match
    got = tokens.verify_native(SALT, scramble_native_password(token.encode(), SALT))
    assert got is not None and got.id == info.id and got.user == "alice"
    assert tokens.verify_native(SALT, scramble_native_password(token.encode(), SALT), user="alice") is not None
    assert tokens.get(info.id).last_used_at is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("case", ["other-user", "other-salt", "other-token", "truncated", "empty", "stored-hash",
                                  "revoked", "expired", "legacy-row"])
def test_native_scramble_refused(tokens, monkeypatch, case):
    token, info = tokens.issue("alice", set(), 5)
    password, salt, user = token.encode(), SALT, None
    if case == "other-user":
        user = "bob"
    elif case == "other-salt":
        salt = b"ABCDEFGHIJKLMNOPQRST"
    elif case == "other-token":
        password = tokens.issue("alice", set(), 60)[0].encode() + b"x"
    elif case == "stored-hash":
        # A thief of the state store knows SHA1(SHA1(token)); answering with it as the
        # password must not log in.
        password = native_hash(token).encode()
    elif case == "revoked":
        tokens.revoke(info.id)
    elif case == "expired":
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 10)
    elif case == "legacy-row":
        with tokens.store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE tokens SET native_hash = NULL")
    scramble = scramble_native_password(password, salt)
    if case == "stored-hash":
        # ... nor putting the stored hash where SHA1(token) belongs in the scramble.
        stored = bytes.fromhex(native_hash(token))
        forged = bytes(a ^ b for a, b in zip(stored, hashlib.sha1(salt + stored).digest(), strict=True))
        assert tokens.verify_native(SALT, forged) is None
    if case == "truncated":
        scramble = scramble[:19]
    elif case == "empty":
        scramble = b""
    assert tokens.verify_native(SALT, scramble, user=user) is None
    if case == "legacy-row":
        assert tokens.verify(token) is not None  # caching_sha2 (clear token in TLS) still works


def test_ttl_must_be_positive(tokens):
    with pytest.raises(ValueError):
        tokens.issue("alice", set(), 0)
