"""Turning an SSH client away before any key exchange, with a reason it prints.

RFC 4253: after the identification strings, packets are unencrypted until the first
key exchange ends, so a server may answer with ``SSH_MSG_DISCONNECT`` at once; OpenSSH
prints its description ("Received disconnect from …: 7: …"). Used when this node is not
ready (:mod:`bastion.runtime.readiness`).
"""

from __future__ import annotations

import os
import socket
import struct

IDENT = b"SSH-2.0-bastion\r\n"
MSG_DISCONNECT = 1
SERVICE_NOT_AVAILABLE = 7


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def disconnect_packet(reason: str, code: int = SERVICE_NOT_AVAILABLE) -> bytes:
    """An unencrypted binary packet (block size 8, at least 4 bytes of padding)."""
    payload = bytes([MSG_DISCONNECT]) + struct.pack(">I", code) + _string(reason.encode()[:1000]) + _string(b"")
    padding = 8 - (5 + len(payload)) % 8
    padding += 8 if padding < 4 else 0
    return struct.pack(">IB", 1 + len(payload) + padding, padding) + payload + os.urandom(padding)


def refuse(sock: socket.socket, reason: str, timeout: float = 2.0) -> None:
    """Send our identification and a DISCONNECT, then let the client read them: read what
    it sends (its identification, its KEXINIT) until it closes, so closing our end does
    not reset the connection before it read the reason."""
    sock.settimeout(timeout)
    sock.sendall(IDENT + disconnect_packet(reason))
    try:
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass
    except OSError:
        pass
