"""Micro-benchmark of the MySQL codec's hot paths (pure CPU, no sockets).

Run: ``.venv/bin/python bench/codec.py``. Prints µs per operation for a
10-column row (text and binary: parse, rewrite with 2 masked columns, rewrite
that changes nothing), the response tracker's per-row cost, and framing
throughput for small packets and for one 48 MiB split packet.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from plugins.mysql.codec import (
    CLIENT_DEPRECATE_EOF,
    CLIENT_PROTOCOL_41,
    COM_QUERY,
    MYSQL_TYPE_DATETIME,
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_LONGLONG,
    MYSQL_TYPE_NEWDECIMAL,
    MYSQL_TYPE_VAR_STRING,
    PacketReader,
    ResponseTracker,
    build_binary_row,
    build_column_count,
    build_text_row,
    frame,
    parse_binary_row,
    parse_text_row,
    rewrite_binary_row,
    rewrite_text_row,
)
from plugins.mysql.codec import ColumnDef as _ColumnDef

TEXT_VALUES: list[bytes | None] = [
    b"123456",
    b"alice@example.com",
    b"4111111111111111",
    b"Alice",
    b"Liddell",
    None,
    b"2024-01-02 03:04:05",
    b"1234.50",
    b"some free text that is a little longer than the others",
    b"42",
]
TYPES = [
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_DATETIME,
    MYSQL_TYPE_NEWDECIMAL,
    MYSQL_TYPE_VAR_STRING,
    MYSQL_TYPE_LONGLONG,
]
BINARY_VALUES: list[bytes | None] = [
    (123456).to_bytes(4, "little"),
    b"alice@example.com",
    b"4111111111111111",
    b"Alice",
    b"Liddell",
    None,
    bytes.fromhex("e80701020304050000000000")[:7],
    b"1234.50",
    b"some free text that is a little longer than the others",
    (42).to_bytes(8, "little"),
]


def mask_email(value: bytes) -> bytes:
    at = value.find(b"@")
    return value[:1] + b"*" * (at - 1) + value[at:] if at > 0 else b"*" * len(value)


def mask_pan(value: bytes) -> bytes:
    return b"*" * (len(value) - 4) + value[-4:]


MASKERS = {1: mask_email, 2: mask_pan}
NOOP = {1: lambda v: v, 2: lambda v: v}


def per_call_us(fn: Callable[[], object], n: int = 200_000) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def bench_rows() -> None:
    text = build_text_row(TEXT_VALUES)
    binary = build_binary_row(BINARY_VALUES, TYPES)
    types = tuple(TYPES)
    print(f"10-column text row ({len(text)} B)")
    print(f"  parse_text_row                 {per_call_us(lambda: parse_text_row(text)):6.2f} µs")
    print(f"  rewrite_text_row, 2 masked     {per_call_us(lambda: rewrite_text_row(text, MASKERS)):6.2f} µs")
    print(f"  rewrite_text_row, unchanged    {per_call_us(lambda: rewrite_text_row(text, NOOP)):6.2f} µs")
    print(f"10-column binary row ({len(binary)} B)")
    print(f"  parse_binary_row               {per_call_us(lambda: parse_binary_row(binary, types)):6.2f} µs")
    us = per_call_us(lambda: rewrite_binary_row(binary, types, MASKERS))
    print(f"  rewrite_binary_row, 2 masked   {us:6.2f} µs")


def bench_tracker() -> None:
    caps = CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF
    row = build_text_row(TEXT_VALUES)
    col = _ColumnDef("def", "db", "t", "t", "c", "c", 45, 80, MYSQL_TYPE_VAR_STRING, 0, 0).build()
    tracker = ResponseTracker(COM_QUERY, caps)
    tracker.feed(build_column_count(1))
    tracker.feed(col)
    print(f"ResponseTracker.feed per row     {per_call_us(lambda: tracker.feed(row)):6.2f} µs")


def bench_framing() -> None:
    row = build_text_row(TEXT_VALUES)
    n = 100_000
    wire = b"".join(frame(row, i & 0xFF)[0] for i in range(n))
    chunk = 256 * 1024
    start = time.perf_counter()
    reader = PacketReader()
    count = 0
    for off in range(0, len(wire), chunk):
        reader.feed(wire[off : off + chunk])
        while reader.next_packet() is not None:
            count += 1
    secs = time.perf_counter() - start
    assert count == n
    print(
        f"PacketReader, {len(row) + 4} B packets in 256 KiB reads: "
        f"{secs / n * 1e6:.2f} µs/packet, {len(wire) / secs / 2**20:.0f} MiB/s"
    )
    start = time.perf_counter()
    for i in range(n):
        frame(row, i & 0xFF)
    secs = time.perf_counter() - start
    print(f"frame(), {len(row)} B payloads: {secs / n * 1e6:.2f} µs/packet")
    big = b"x" * (48 << 20)
    start = time.perf_counter()
    wire, _ = frame(big, 0)
    reader = PacketReader(max_packet=64 << 20)
    for off in range(0, len(wire), 1 << 20):
        reader.feed(wire[off : off + (1 << 20)])
        reader.next_packet()
    secs = time.perf_counter() - start
    print(f"48 MiB split packet, frame + reassemble (1 MiB reads): {len(big) / secs / 2**20:.0f} MiB/s")


if __name__ == "__main__":
    bench_rows()
    bench_tracker()
    bench_framing()
