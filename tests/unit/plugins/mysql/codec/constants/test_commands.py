"""Command bytes and their names."""

from __future__ import annotations

from plugins.mysql.codec.constants import commands as K


def test_well_known_values():
    assert (K.COM_QUERY, K.COM_STMT_PREPARE, K.COM_RESET_CONNECTION, K.COM_STMT_BULK_EXECUTE) == (
        3, 0x16, 0x1F, 0xFA,
    )  # fmt: skip
    assert K.COMMAND_NAMES[0x03] == "COM_QUERY" and K.COMMAND_NAMES[0xFA] == "COM_STMT_BULK_EXECUTE"
    assert len(K.COMMAND_NAMES) == 33
