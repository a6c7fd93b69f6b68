from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    ADVERTISED_CAPS,
    CLIENT_CONNECT_ATTRS,
    CLIENT_CONNECT_WITH_DB,
    CLIENT_LONG_PASSWORD,
    CLIENT_PLUGIN_AUTH,
    CLIENT_PLUGIN_AUTH_LENENC_DATA,
    CLIENT_PROTOCOL_41,
    CLIENT_SECURE_CONNECTION,
    CLIENT_SSL,
    HandshakeResponse41,
    HandshakeV10,
    LocalProtocolError,
    RemoteProtocolError,
    build_auth_more_data,
    build_auth_switch,
    build_ssl_request,
    is_ssl_request,
    parse_auth_more_data,
    parse_auth_switch,
    parse_ssl_request,
)

from . import captured

GREETING = captured.payloads(captured.GREETING)[0]
SALT = b"ABCDEFGHIJKLMNOPQRST"


def test_captured_mariadb_greeting():
    g = HandshakeV10.parse(GREETING)
    assert g.server_version == "5.5.5-10.11.19-MariaDB-0+deb12u1"
    assert g.display_version == "10.11.19-MariaDB-0+deb12u1"
    assert g.auth_plugin == "mysql_native_password"
    assert len(g.auth_data) == 20
    assert not g.capabilities & CLIENT_LONG_PASSWORD  # real MariaDB leaves CLIENT_MYSQL unset
    assert g.mariadb_ext_caps != 0  # ... and so its extended caps count
    assert g.build() == GREETING


def test_greeting_exact_layout():
    g = HandshakeV10("8.0.0-bastion", 0x01020304, SALT, ADVERTISED_CAPS, 45, 0x0002, "caching_sha2_password")
    expected = (
        b"\x0a8.0.0-bastion\x00"
        + bytes.fromhex("04030201")
        + SALT[:8]
        + b"\x00"
        + (ADVERTISED_CAPS & 0xFFFF).to_bytes(2, "little")
        + b"\x2d"
        + b"\x02\x00"
        + (ADVERTISED_CAPS >> 16).to_bytes(2, "little")
        + b"\x15"
        + b"\x00" * 10
        + SALT[8:]
        + b"\x00caching_sha2_password\x00"
    )
    assert g.build() == expected
    assert HandshakeV10.parse(expected) == g
    assert g.display_version == "8.0.0-bastion"


@pytest.mark.parametrize(("caps", "ext", "parsed_ext"), [(ADVERTISED_CAPS, 0x1D, 0), (0x81FFF7FE, 0x1D, 0x1D)])
def test_greeting_ext_caps_only_without_client_mysql(caps, ext, parsed_ext):
    built = HandshakeV10("v", 1, SALT, caps, 8, 2, "p", ext).build()
    assert HandshakeV10.parse(built).mariadb_ext_caps == parsed_ext


def test_greeting_without_final_nul_on_plugin_name():
    assert HandshakeV10.parse(GREETING[:-1]).auth_plugin == "mysql_native_password"


def test_greeting_bad_auth_data_length_is_local_error():
    with pytest.raises(LocalProtocolError):
        HandshakeV10("v", 1, b"short", ADVERTISED_CAPS, 8, 2, "p").build()


@pytest.mark.parametrize("cut", [0, 1, 5, 30, 36, 40, 45, 52, 60, 70, 77])
def test_truncated_greeting_is_remote_error(cut):
    with pytest.raises(RemoteProtocolError):
        HandshakeV10.parse(GREETING[:cut])


def test_err_instead_of_greeting_is_remote_error():
    with pytest.raises(RemoteProtocolError):
        HandshakeV10.parse(b"\xff\x10\x04Too many connections")


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


def test_auth_switch_and_more_data():
    pkt = build_auth_switch("caching_sha2_password", SALT + b"\x00")
    assert pkt == b"\xfecaching_sha2_password\x00" + SALT + b"\x00"
    assert parse_auth_switch(pkt) == ("caching_sha2_password", SALT + b"\x00")
    assert parse_auth_switch(b"\xfe") == ("mysql_old_password", b"")
    assert build_auth_more_data(b"\x04") == b"\x01\x04"
    assert parse_auth_more_data(b"\x01\x03") == b"\x03"
    for bad in (b"", b"\x00abc", b"\xfenoterminator"):
        with pytest.raises(RemoteProtocolError):
            parse_auth_switch(bad)
    with pytest.raises(RemoteProtocolError):
        parse_auth_more_data(b"\x02")


@pytest.mark.parametrize(
    "build",
    [
        lambda: HandshakeV10("v", 1 << 32, SALT, ADVERTISED_CAPS, 8, 2, "p").build(),
        lambda: HandshakeV10("v", 1, SALT, ADVERTISED_CAPS, 256, 2, "p").build(),
        lambda: HandshakeResponse41(ADVERTISED_CAPS, 1 << 32, 8, "u", b"").build(),
        lambda: HandshakeResponse41(ADVERTISED_CAPS & ~CLIENT_PROTOCOL_41, 0, 8, "u", b"").build(),
        lambda: build_ssl_request(ADVERTISED_CAPS, 0, 300),
    ],
)
def test_out_of_range_fields_are_local_errors(build):
    with pytest.raises(LocalProtocolError):
        build()
