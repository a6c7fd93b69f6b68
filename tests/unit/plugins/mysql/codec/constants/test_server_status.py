"""Server status flags."""

from __future__ import annotations

from plugins.mysql.codec.constants import server_status as K


def test_well_known_values():
    assert K.SERVER_STATUS_NO_BACKSLASH_ESCAPES == 0x200 and K.SERVER_STATUS_CURSOR_EXISTS == 0x40
    assert K.SERVER_MORE_RESULTS_EXISTS == 0x08 and K.SERVER_SESSION_STATE_CHANGED == 0x4000
