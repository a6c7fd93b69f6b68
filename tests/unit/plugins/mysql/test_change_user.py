"""COM_CHANGE_USER: the packet's fields and the re-authentication exchange (which plugin
the client is switched to, the token it answers with, the sequence ids)."""

from __future__ import annotations

import pytest

from plugins.mysql import change_user
from plugins.mysql.codec import CLIENT_CONNECT_ATTRS, CLIENT_PLUGIN_AUTH, CLIENT_SECURE_CONNECTION, RemoteProtocolError
from tests.unit.plugins.mysql.fakes import MemoryConn

TOKEN = b"bst_0123456789ab_secret"
CAPS = CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS


def _sent(conn: MemoryConn) -> list[tuple[int, bytes]]:
    """(seq, payload) of every packet the bastion sent."""
    out = []
    for data in conn.sent:
        size = int.from_bytes(data[:3], "little")
        out.append((data[3], data[4:4 + size]))
    return out


@pytest.mark.parametrize(("client", "plugin", "answers", "final_seq"), [
    # caching_sha2_password: scramble, then "perform full authentication", then the token
    ("libmariadb", b"caching_sha2_password", [b"x" * 32, TOKEN + b"\0"], 5),
    ("mysqlnd", b"caching_sha2_password", [b"x" * 32, TOKEN], 5),
    # MySQL Connector/J cannot finish that with our server version: mysql_clear_password
    ("MySQL Connector/J", b"mysql_clear_password", [TOKEN + b"\0"], 3),
])
def test_full_auth_switches_and_returns_the_token(client: str, plugin: bytes, answers: list[bytes],
                                                  final_seq: int) -> None:
    conn = MemoryConn()
    for i, answer in enumerate(answers):
        conn.feed(answer, 2 + 2 * i)
    token, seq = change_user.full_auth(conn, 0, 5, client)
    assert (token, seq) == (TOKEN, final_seq)
    sent = _sent(conn)
    assert sent[0][0] == 1 and sent[0][1].startswith(b"\xfe" + plugin + b"\0")
    salt = sent[0][1][len(plugin) + 2:]
    assert len(salt) == 21 and salt.endswith(b"\0") and b"\0" not in salt[:-1]
    if plugin == b"caching_sha2_password":
        assert sent[1] == (3, b"\x01\x04")
    assert len(sent) == len(answers)


def test_full_auth_empty_scramble_is_an_empty_token() -> None:
    conn = MemoryConn()
    conn.feed(b"", 2)
    assert change_user.full_auth(conn, 0, 5, "libmariadb") == (b"", 3)


def _packet(user: bytes, auth: bytes, db: bytes, tail: bytes = b"") -> bytes:
    return b"\x11" + user + b"\0" + bytes([len(auth)]) + auth + db + b"\0" + tail


@pytest.mark.parametrize(("payload", "expected"), [
    (_packet(b"shop-db", b"", b"shop"), ("shop-db", "shop", 45, {})),
    (_packet(b"alice#shop-db", b"s" * 20, b"", b"\x21\x00caching_sha2_password\0"
             + b"\x11" + b"\x0c_client_name\x03php"), ("alice#shop-db", "", 33, {"_client_name": "php"})),
])
def test_parse(payload: bytes, expected: tuple[str, str, int, dict[str, str]]) -> None:
    req = change_user.parse(payload, CAPS, 45)
    assert (req.username, req.database, req.collation, req.attrs) == expected


@pytest.mark.parametrize("payload", [
    b"\x11shop-db",  # user never ends
    b"\x11shop-db\0",  # no auth length
    b"\x11shop-db\0\x05ab",  # auth longer than the packet
    _packet(b"u", b"", b"db", b"\x21\x00p\0\x20\x03abc"),  # attributes longer than announced
])
def test_parse_refuses_truncated_packets(payload: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        change_user.parse(payload, CAPS, 45)
