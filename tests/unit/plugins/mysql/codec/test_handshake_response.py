"""The client's SSLRequest and HandshakeResponse41: captured, per-flag round trips, refusals."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    ADVERTISED_CAPS,
    CLIENT_CONNECT_ATTRS,
    CLIENT_CONNECT_WITH_DB,
    CLIENT_PLUGIN_AUTH,
    CLIENT_PLUGIN_AUTH_LENENC_DATA,
    CLIENT_PROTOCOL_41,
    CLIENT_SECURE_CONNECTION,
    CLIENT_SSL,
    HandshakeResponse41,
    LocalProtocolError,
    RemoteProtocolError,
    build_ssl_request,
    is_ssl_request,
    parse_ssl_request,
)

from . import captured


def test_captured_ssl_request_from_mariadb_cli():
    payload = captured.payloads(captured.CLIENT_MARIADB_CLI_SSLREQUEST)[0]
    assert is_ssl_request(payload)
    caps, max_packet, collation = parse_ssl_request(payload)
    assert caps & CLIENT_SSL and caps & CLIENT_PROTOCOL_41
    assert (max_packet, collation) == (1 << 20, 33)
    assert build_ssl_request(caps, max_packet, collation, 0x1D) == payload


def test_ssl_request_round_trip_and_detection():
    payload = build_ssl_request(ADVERTISED_CAPS & ~CLIENT_SSL, 16 << 20, 45)
    assert len(payload) == 32 and is_ssl_request(payload)
    assert parse_ssl_request(payload) == (ADVERTISED_CAPS, 16 << 20, 45)
    assert not is_ssl_request(payload, caps=0)
    full = captured.payloads(captured.CLIENT_MARIADB_CLI_RESPONSE)[0]
    assert not is_ssl_request(full)


@pytest.mark.parametrize("payload", [b"\x00" * 31, b"\x00" * 33, b"\x00" * 32])
def test_parse_ssl_request_rejects(payload):
    with pytest.raises(RemoteProtocolError):
        parse_ssl_request(payload)


@pytest.mark.parametrize(
    ("name", "user", "db", "plugin", "attr"),
    [
        ("CLIENT_MARIADB_CLI_RESPONSE", "admin", "testdb", "mysql_native_password", ("_client_name", "libmariadb")),
        ("CLIENT_PYMYSQL_RESPONSE", "admin", "testdb", "mysql_native_password", ("_client_name", "pymysql")),
        ("EOF_HANDSHAKE_RESPONSE_OURS", "admin", "testdb", "mysql_native_password", ("_pid", "42")),
    ],
)
def test_captured_handshake_responses_round_trip(name, user, db, plugin, attr):
    payload = captured.payloads(getattr(captured, name))[0]
    r = HandshakeResponse41.parse(payload)
    assert (r.username, r.database, r.auth_plugin) == (user, db, plugin)
    assert r.attrs[attr[0]] == attr[1]
    assert len(r.auth_response) == 20
    assert r.build() == payload


def _flag_combos() -> list[int]:
    base = CLIENT_PROTOCOL_41
    auth_modes = [CLIENT_PLUGIN_AUTH_LENENC_DATA | CLIENT_SECURE_CONNECTION, CLIENT_SECURE_CONNECTION, 0]
    out = []
    for auth in auth_modes:
        for extra in range(8):
            caps = base | auth
            caps |= CLIENT_CONNECT_WITH_DB if extra & 1 else 0
            caps |= CLIENT_PLUGIN_AUTH if extra & 2 else 0
            caps |= CLIENT_CONNECT_ATTRS if extra & 4 else 0
            out.append(caps)
    return out


@pytest.mark.parametrize("caps", _flag_combos(), ids=hex)
def test_handshake_response_round_trip_per_flags(caps):
    r = HandshakeResponse41(
        capabilities=caps,
        max_packet=1 << 24,
        collation=45,
        username="ålice",
        auth_response=b"secret-token" if not caps & CLIENT_SECURE_CONNECTION else b"\x00\x01" * 10,
        database="db1" if caps & CLIENT_CONNECT_WITH_DB else None,
        auth_plugin="caching_sha2_password" if caps & CLIENT_PLUGIN_AUTH else None,
        attrs={"_client_name": "x", "program_name": "y" * 300} if caps & CLIENT_CONNECT_ATTRS else {},
    )
    assert HandshakeResponse41.parse(r.build()) == r


def test_handshake_response_lenenc_auth_longer_than_255():
    caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH_LENENC_DATA
    r = HandshakeResponse41(caps, 0, 8, "u", b"k" * 300)
    assert HandshakeResponse41.parse(r.build()).auth_response == b"k" * 300
    with pytest.raises(LocalProtocolError):
        HandshakeResponse41(caps & ~CLIENT_PLUGIN_AUTH_LENENC_DATA, 0, 8, "u", b"k" * 300).build()


def test_handshake_response_flags_set_but_fields_omitted():
    caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_CONNECT_WITH_DB | CLIENT_PLUGIN_AUTH
    payload = caps.to_bytes(4, "little") + b"\x00" * 28 + b"bob\x00\x00"
    r = HandshakeResponse41.parse(payload)
    assert (r.username, r.auth_response, r.database, r.auth_plugin) == ("bob", b"", None, None)


def test_handshake_response_320_is_refused():
    with pytest.raises(RemoteProtocolError):
        HandshakeResponse41.parse(b"\x00\x00\x00\x00" + b"\x00" * 28 + b"u\x00")


@pytest.mark.parametrize("cut", [0, 3, 20, 32, 36, 40, 60, 100])
def test_truncated_handshake_response(cut):
    payload = captured.payloads(captured.CLIENT_MARIADB_CLI_RESPONSE)[0]
    with pytest.raises(RemoteProtocolError):
        HandshakeResponse41.parse(payload[:cut])


@pytest.mark.parametrize(
    "build",
    [
        lambda: HandshakeResponse41(ADVERTISED_CAPS, 1 << 32, 8, "u", b"").build(),
        lambda: HandshakeResponse41(ADVERTISED_CAPS & ~CLIENT_PROTOCOL_41, 0, 8, "u", b"").build(),
        lambda: build_ssl_request(ADVERTISED_CAPS, 0, 300),
    ],
)
def test_out_of_range_fields_are_local_errors(build):
    with pytest.raises(LocalProtocolError):
        build()
