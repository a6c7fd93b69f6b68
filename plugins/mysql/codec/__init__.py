"""Sans-IO MySQL/MariaDB packet codec for the bastion's MySQL relay.

No sockets, no greenlets: bytes in, values out (and back). Layers:

* framing: :class:`PacketReader`, :func:`frame` (16 MiB split/join, seq ids);
* wire primitives: lenenc integers and strings, NUL strings;
* connection phase: :class:`HandshakeV10`, SSLRequest helpers,
  :class:`HandshakeResponse41`, auth switch / more-data packets;
* command phase: :class:`OkPacket`, :class:`ErrPacket`, EOF, :class:`ColumnDef`,
  :class:`PrepareOk`, ``COM_STMT_*`` headers;
* rows: text and binary parse/build and masking rewrites;
* statement parameters: :func:`parse_execute_params`, :func:`parse_send_long_data`;
* :class:`ResponseTracker`: which packet of a command's response comes next;
  :func:`scan_result`: a small response, whole, in one pass (the relay's fast lane).

Parsers raise :class:`RemoteProtocolError` (and only that) on malformed peer
input; API misuse raises :class:`LocalProtocolError`. Every name of
:mod:`plugins.mysql.codec.constants` (capabilities, ``COM_*``, status flags,
``MYSQL_TYPE_*``, header bytes) is re-exported here too.
"""

from __future__ import annotations

from . import constants
from ._auth_exchange import build_auth_more_data, build_auth_switch, parse_auth_more_data, parse_auth_switch
from ._binary_rows import build_binary_row, parse_binary_row, rewrite_binary_row, rewrite_binary_rows
from ._columns import ColumnDef, build_column_count, parse_column_count
from ._framing import PacketReader, frame
from ._greeting import HandshakeV10
from ._handshake_response import (
    SSL_REQUEST_LEN,
    HandshakeResponse41,
    build_ssl_request,
    is_ssl_request,
    parse_ssl_request,
)
from ._items import (
    ColumnCountItem,
    ColumnDefItem,
    ColumnsEndItem,
    ErrItem,
    Item,
    LocalInfileItem,
    OkItem,
    ParamDefItem,
    ParamsEndItem,
    PrepareOkItem,
    ResultEndItem,
    RowItem,
    StatisticsItem,
)
from ._ok_err_eof import ErrPacket, OkPacket, build_eof, is_eof, is_err, is_ok, parse_eof, status_of_terminator
from ._params import (
    ExecuteParams,
    Param,
    build_send_long_data,
    build_stmt_execute,
    parse_execute_params,
    parse_send_long_data,
)
from ._response import ResponseTracker
from ._rows import (
    Masker,
    RowsMasker,
    build_text_row,
    is_row_terminator,
    parse_text_row,
    per_value,
    rewrite_text_row,
    rewrite_text_rows,
    split_packets,
)
from ._scan import ScannedResult, scan_result
from ._stmt_packets import PrepareOk, parse_stmt_execute, parse_stmt_fetch, parse_stmt_id
from ._wire import lenenc_bytes, lenenc_int, read_lenenc_bytes, read_lenenc_int, read_nul_str
from .constants.capabilities import *  # noqa: F403  (re-exported: every constants table's __all__)
from .constants.column_types import *  # noqa: F403
from .constants.commands import *  # noqa: F403
from .constants.packet_headers import *  # noqa: F403
from .constants.server_status import *  # noqa: F403
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = [
    "SSL_REQUEST_LEN",
    "ColumnCountItem",
    "ColumnDef",
    "ColumnDefItem",
    "ColumnsEndItem",
    "ErrItem",
    "ErrPacket",
    "ExecuteParams",
    "HandshakeResponse41",
    "HandshakeV10",
    "Item",
    "LocalInfileItem",
    "LocalProtocolError",
    "Masker",
    "OkItem",
    "OkPacket",
    "PacketReader",
    "Param",
    "ParamDefItem",
    "ParamsEndItem",
    "PrepareOk",
    "PrepareOkItem",
    "ProtocolError",
    "RemoteProtocolError",
    "ResponseTracker",
    "ResultEndItem",
    "RowItem",
    "ScannedResult",
    "StatisticsItem",
    "build_auth_more_data",
    "build_auth_switch",
    "build_binary_row",
    "build_column_count",
    "build_eof",
    "build_send_long_data",
    "build_stmt_execute",
    "build_ssl_request",
    "build_text_row",
    "constants",
    "frame",
    "is_eof",
    "is_err",
    "is_ok",
    "is_row_terminator",
    "is_ssl_request",
    "lenenc_bytes",
    "lenenc_int",
    "parse_auth_more_data",
    "parse_auth_switch",
    "parse_binary_row",
    "parse_column_count",
    "parse_eof",
    "parse_execute_params",
    "parse_send_long_data",
    "parse_ssl_request",
    "parse_stmt_execute",
    "parse_stmt_fetch",
    "parse_stmt_id",
    "parse_text_row",
    "read_lenenc_bytes",
    "read_lenenc_int",
    "read_nul_str",
    "rewrite_binary_row",
    "rewrite_binary_rows",
    "rewrite_text_row",
    "rewrite_text_rows",
    "split_packets",
    "per_value",
    "RowsMasker",
    "scan_result",
    "status_of_terminator",
]
__all__ += constants.capabilities.__all__
__all__ += constants.column_types.__all__
__all__ += constants.commands.__all__
__all__ += constants.packet_headers.__all__
__all__ += constants.server_status.__all__
