"""AuthSwitchRequest and AuthMoreData."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    RemoteProtocolError,
    build_auth_more_data,
    build_auth_switch,
    parse_auth_more_data,
    parse_auth_switch,
)

SALT = b"ABCDEFGHIJKLMNOPQRST"


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
