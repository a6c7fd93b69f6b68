"""The server greeting (HandshakeV10): captured, exact layout, extended caps, truncation."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    ADVERTISED_CAPS,
    CLIENT_LONG_PASSWORD,
    HandshakeV10,
    LocalProtocolError,
    RemoteProtocolError,
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


@pytest.mark.parametrize(
    "build",
    [
        lambda: HandshakeV10("v", 1 << 32, SALT, ADVERTISED_CAPS, 8, 2, "p").build(),
        lambda: HandshakeV10("v", 1, SALT, ADVERTISED_CAPS, 256, 2, "p").build(),
    ],
)
def test_out_of_range_fields_are_local_errors(build):
    with pytest.raises(LocalProtocolError):
        build()
