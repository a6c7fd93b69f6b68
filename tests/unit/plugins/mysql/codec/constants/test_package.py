"""The constants package re-exports every table, and the codec package re-exports them all."""

from __future__ import annotations

import plugins.mysql.codec as codec
from plugins.mysql.codec import constants
from plugins.mysql.codec.constants import capabilities, column_types, commands, packet_headers, server_status

TABLES = (capabilities, column_types, commands, packet_headers, server_status)


def test_every_name_is_reexported_once():
    names = [name for table in TABLES for name in table.__all__]
    assert len(names) == len(set(names)) == len(constants.__all__)
    for table in TABLES:
        for name in table.__all__:
            assert getattr(constants, name) is getattr(table, name) is getattr(codec, name)
            assert name in codec.__all__
