"""Parameters of ``COM_STMT_EXECUTE`` and the data of ``COM_STMT_SEND_LONG_DATA``.

COM_STMT_EXECUTE (MariaDB/MySQL without query attributes, which the bastion never
negotiates): ``0x17 stmt_id<4> flags<1> iterations<4>``, then, when the statement has
parameters, a NULL bitmap of ``(n + 7) // 8`` bytes (bit ``i`` marks parameter ``i``
NULL), ``new_params_bound<1>``, when it is 1 one ``type<1> flags<1>`` pair per
parameter (flag ``0x80``: unsigned), then the values of the parameters that are neither
NULL nor sent as long data, each encoded as in a binary row: fixed little-endian ints and
floats, a 1-byte length then the fields of a temporal, a lenenc string for the rest.

When ``new_params_bound`` is 0 the types of the statement's previous execution apply.
A parameter sent with COM_STMT_SEND_LONG_DATA (``0x18 stmt_id<4> param_id<2> data``) since
the previous execution takes no bytes in the packet whatever its NULL bit says (the
server reads its value from the long data); the server forgets long data once it ran.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._stmt_packets import _check_command
from ._wire import lenenc_bytes, local_errors
from .constants import COM_STMT_EXECUTE, COM_STMT_SEND_LONG_DATA, FIXED_SIZE_TYPES, MYSQL_TYPE_NULL, TEMPORAL_TYPES
from .errors import RemoteProtocolError

__all__ = ["ExecuteParams", "Param", "build_send_long_data", "build_stmt_execute", "parse_execute_params",
           "parse_send_long_data"]

UNSIGNED = 0x80
"""The flag byte of a parameter type: an unsigned integer."""


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter as it reaches the server: its type and raw value bytes (the fixed
    little-endian bytes, a temporal's fields without the length byte, a string's content
    without its length; None for NULL)."""

    type: int
    unsigned: bool
    value: bytes | None
    long_data: bool = False
    """Sent with COM_STMT_SEND_LONG_DATA (``value`` is what the caller kept of it)."""


@dataclass(frozen=True, slots=True)
class ExecuteParams:
    stmt_id: int
    flags: int
    types: tuple[tuple[int, bool], ...]
    """``(type, unsigned)`` of each parameter in force for this execution (and the next ones
    that send no types)."""
    params: tuple[Param, ...]


def _value(payload: bytes, pos: int, type_: int) -> tuple[bytes, int]:
    size = FIXED_SIZE_TYPES.get(type_)
    if size is not None and type_ != MYSQL_TYPE_NULL:
        start, end = pos, pos + size
    elif type_ in TEMPORAL_TYPES:
        start = pos + 1
        end = start + payload[pos]
    else:
        first = payload[pos]
        if first < 0xFB:
            start = pos + 1
            end = start + first
        else:
            extra = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
            if extra is None:
                raise RemoteProtocolError(f"invalid length prefix 0x{first:02x} of a parameter")
            start = pos + 1 + extra
            end = start + int.from_bytes(payload[pos + 1 : start], "little")
    if end > len(payload):
        raise RemoteProtocolError("truncated parameter value")
    return payload[start:end], end


def parse_execute_params(payload: bytes, num_params: int, previous: Sequence[tuple[int, bool]] = (),
                         long_data: Mapping[int, bytes] | None = None) -> ExecuteParams:
    """Decode the parameters of a COM_STMT_EXECUTE (with its command byte).

    ``num_params`` comes from the statement's COM_STMT_PREPARE_OK, ``previous`` are the
    types of its previous execution, ``long_data`` what COM_STMT_SEND_LONG_DATA sent since
    (parameter index -> the bytes kept). Raises :class:`RemoteProtocolError` when the packet
    is malformed, names no types while none are known, or has bytes the parameters do not
    account for (the bastion must record exactly what the server will read)."""
    _check_command(payload, COM_STMT_EXECUTE)
    if len(payload) < 10:
        raise RemoteProtocolError("truncated COM_STMT_EXECUTE")
    stmt_id, flags = int.from_bytes(payload[1:5], "little"), payload[5]
    if num_params == 0:
        return ExecuteParams(stmt_id, flags, (), ())
    pos = 10 + (num_params + 7) // 8
    if len(payload) < pos + 1:
        raise RemoteProtocolError("truncated parameter NULL bitmap")
    nulls = int.from_bytes(payload[10:pos], "little")
    bound, pos = payload[pos], pos + 1
    if bound:
        end = pos + 2 * num_params
        if len(payload) < end:
            raise RemoteProtocolError("truncated parameter types")
        types = tuple((payload[i], bool(payload[i + 1] & UNSIGNED)) for i in range(pos, end, 2))
        pos = end
    elif len(previous) == num_params:
        types = tuple(previous)
    else:
        raise RemoteProtocolError("COM_STMT_EXECUTE without parameter types, and none bound before")
    longs = long_data or {}
    params: list[Param] = []
    try:
        for i, (type_, unsigned) in enumerate(types):
            if i in longs:
                params.append(Param(type_, unsigned, longs[i], long_data=True))
            elif nulls >> i & 1:
                params.append(Param(type_, unsigned, None))
            else:
                value, pos = _value(payload, pos, type_)
                params.append(Param(type_, unsigned, value))
    except IndexError:
        raise RemoteProtocolError("truncated parameter value") from None
    if pos != len(payload):
        raise RemoteProtocolError("COM_STMT_EXECUTE has bytes after its parameters")
    return ExecuteParams(stmt_id, flags, types, tuple(params))


def parse_send_long_data(payload: bytes) -> tuple[int, int, bytes]:
    """``(stmt_id, param_id, data)`` of a COM_STMT_SEND_LONG_DATA."""
    _check_command(payload, COM_STMT_SEND_LONG_DATA)
    if len(payload) < 7:
        raise RemoteProtocolError("truncated COM_STMT_SEND_LONG_DATA")
    return int.from_bytes(payload[1:5], "little"), int.from_bytes(payload[5:7], "little"), payload[7:]


@local_errors
def build_stmt_execute(stmt_id: int, params: Sequence[Param], flags: int = 0, bind: bool = True) -> bytes:
    """Encode a COM_STMT_EXECUTE as a client does (``bind``: send the types). Parameters
    with ``long_data`` take no bytes (their data goes in :func:`build_send_long_data`)."""
    head = bytes((COM_STMT_EXECUTE,)) + stmt_id.to_bytes(4, "little") + bytes((flags,)) + (1).to_bytes(4, "little")
    if not params:
        return head
    nulls = sum(1 << i for i, p in enumerate(params) if p.value is None and not p.long_data)
    parts = [head, nulls.to_bytes((len(params) + 7) // 8, "little"), b"\x01" if bind else b"\x00"]
    if bind:
        parts += [bytes((p.type, UNSIGNED if p.unsigned else 0)) for p in params]
    for p in params:
        if p.value is None or p.long_data:
            continue
        if p.type in FIXED_SIZE_TYPES and p.type != MYSQL_TYPE_NULL:
            parts.append(p.value)
        elif p.type in TEMPORAL_TYPES:
            parts += [bytes((len(p.value),)), p.value]
        else:
            parts.append(lenenc_bytes(p.value))
    return b"".join(parts)


@local_errors
def build_send_long_data(stmt_id: int, param_id: int, data: bytes) -> bytes:
    """Encode a COM_STMT_SEND_LONG_DATA."""
    return bytes((COM_STMT_SEND_LONG_DATA,)) + stmt_id.to_bytes(4, "little") + param_id.to_bytes(2, "little") + data
