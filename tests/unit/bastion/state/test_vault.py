from __future__ import annotations

import base64
import os

import pytest

from bastion.state.store import StateStore
from bastion.state.vault import Vault, VaultError, load_key


@pytest.fixture
def store(tmp_path):
    s = StateStore(f"sqlite:///{tmp_path}/state.db")
    s.migrate()
    yield s
    s.dispose()


def test_round_trip_and_ciphertext_is_opaque(store, tmp_path):
    key = load_key(str(tmp_path / "k"), None)
    vault = Vault(store, key)
    vault.set("db", "admin", "password", b"s3cret-pw")
    assert vault.get("db", "admin").value == b"s3cret-pw"
    with store.engine.connect() as conn:
        raw = b"".join(r[0] for r in conn.exec_driver_sql("SELECT ciphertext FROM credentials"))
    assert b"s3cret-pw" not in raw
    assert "s3cret" not in repr(vault.get("db", "admin"))
    assert oct(os.stat(tmp_path / "k").st_mode & 0o777) == "0o600"


def test_wrong_key_fails_cleanly(store, tmp_path):
    Vault(store, load_key(str(tmp_path / "k1"), None)).set("db", "admin", "password", b"pw")
    other = Vault(store, load_key(str(tmp_path / "k2"), None))
    with pytest.raises(VaultError, match="another vault key"):
        other.get("db", "admin")


def test_swapped_rows_do_not_decrypt(store, tmp_path):
    vault = Vault(store, load_key(str(tmp_path / "k"), None))
    vault.set("db", "a", "password", b"one")
    vault.set("db", "b", "password", b"two")
    with store.engine.begin() as conn:
        ct = conn.exec_driver_sql("SELECT ciphertext FROM credentials WHERE account='a'").scalar()
        conn.exec_driver_sql("UPDATE credentials SET ciphertext=? WHERE account='b'", (ct,))
    with pytest.raises(VaultError, match="cannot be decrypted"):
        vault.get("db", "b")


def test_missing_entry(store, tmp_path):
    with pytest.raises(VaultError, match="no credential"):
        Vault(store, load_key(str(tmp_path / "k"), None)).get("db", "x")


def test_rotation(store, tmp_path):
    vault = Vault(store, load_key(str(tmp_path / "k1"), None))
    vault.set("db", "a", "password", b"one")
    vault.set("host", "deploy", "ssh-key", b"-----BEGIN KEY-----")
    new = load_key(str(tmp_path / "k2"), None)
    assert vault.rotate(new) == 2
    fresh = Vault(store, new)
    assert fresh.get("db", "a").value == b"one"
    assert fresh.get("host", "deploy").kind == "ssh-key"
    with pytest.raises(VaultError):
        Vault(store, load_key(str(tmp_path / "k1"), None)).get("db", "a")


@pytest.mark.parametrize(("raw", "msg"), [("not base64!", "base64"), (base64.b64encode(b"short").decode(), "32 bytes")])
def test_bad_keys(tmp_path, raw, msg):
    path = tmp_path / "bad"
    path.write_text(raw)
    with pytest.raises(VaultError, match=msg):
        load_key(str(path), None)


def test_env_key(monkeypatch):
    monkeypatch.setenv("BASTION_TEST_KEY", base64.b64encode(b"k" * 32).decode())
    assert load_key(None, "BASTION_TEST_KEY") == b"k" * 32
    monkeypatch.delenv("BASTION_TEST_KEY")
    with pytest.raises(VaultError, match="not set"):
        load_key(None, "BASTION_TEST_KEY")


def test_refuses_unknown_kind_and_empty(store, tmp_path):
    vault = Vault(store, load_key(str(tmp_path / "k"), None))
    with pytest.raises(VaultError):
        vault.set("db", "a", "token", b"x")
    with pytest.raises(VaultError):
        vault.set("db", "a", "password", b"")
