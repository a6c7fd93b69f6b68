"""Capability flags: what the bastion advertises, what it never negotiates, well-known bits."""

from __future__ import annotations

from plugins.mysql.codec.constants import capabilities as K


def test_advertised_caps_exactly_d4():
    expected = {
        "CLIENT_LONG_PASSWORD", "CLIENT_LONG_FLAG", "CLIENT_CONNECT_WITH_DB", "CLIENT_PROTOCOL_41",
        "CLIENT_TRANSACTIONS", "CLIENT_SECURE_CONNECTION", "CLIENT_MULTI_RESULTS",
        "CLIENT_PS_MULTI_RESULTS", "CLIENT_PLUGIN_AUTH", "CLIENT_PLUGIN_AUTH_LENENC_DATA",
        "CLIENT_CONNECT_ATTRS", "CLIENT_SESSION_TRACK", "CLIENT_DEPRECATE_EOF", "CLIENT_SSL",
    }  # fmt: skip
    value = 0
    for name in expected:
        value |= getattr(K, name)
    assert value == K.ADVERTISED_CAPS
    assert K.ADVERTISED_CAPS & K.FORBIDDEN_CAPS == 0


def test_forbidden_caps_and_strip():
    for name in (
        "CLIENT_COMPRESS", "CLIENT_ZSTD_COMPRESSION_ALGORITHM", "CLIENT_LOCAL_FILES",
        "CLIENT_MULTI_STATEMENTS", "CLIENT_QUERY_ATTRIBUTES", "CLIENT_OPTIONAL_RESULTSET_METADATA",
    ):  # fmt: skip
        assert K.FORBIDDEN_CAPS & getattr(K, name)
    assert K.FORBIDDEN_CAPS & (1 << 32) and K.FORBIDDEN_CAPS & (1 << 63)
    everything = (1 << 64) - 1
    stripped = K.strip_forbidden_caps(everything)
    assert stripped == 0xFFFFFFFF & ~K.FORBIDDEN_CAPS
    assert stripped & K.CLIENT_SSL and not stripped & K.CLIENT_LOCAL_FILES


def test_well_known_bits():
    assert (K.CLIENT_LONG_PASSWORD, K.CLIENT_PROTOCOL_41, K.CLIENT_SSL) == (1, 0x200, 0x800)
    assert K.CLIENT_DEPRECATE_EOF == 1 << 24 and K.MULTI_FACTOR_AUTHENTICATION == 1 << 28
