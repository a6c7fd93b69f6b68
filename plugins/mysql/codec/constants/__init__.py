"""MySQL / MariaDB protocol constants, one module per table: capability flags
(``capabilities``), command bytes (``commands``), server status flags
(``server_status``), column types and flags (``column_types``) and packet header bytes
(``packet_headers``).

Values follow the MySQL client/server protocol documentation and MariaDB's
``mysql_com.h``. Every name is re-exported here (``from plugins.mysql.codec import
constants as K; K.COM_QUERY``) and by :mod:`plugins.mysql.codec` itself.
"""

from __future__ import annotations

from . import capabilities, column_types, commands, packet_headers, server_status
from .capabilities import *  # noqa: F403
from .column_types import *  # noqa: F403
from .commands import *  # noqa: F403
from .packet_headers import *  # noqa: F403
from .server_status import *  # noqa: F403

__all__ = [
    *capabilities.__all__,
    *column_types.__all__,
    *commands.__all__,
    *packet_headers.__all__,
    *server_status.__all__,
]
