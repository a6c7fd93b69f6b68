"""The refusal of a node that is not ready: our identification, then an SSH_MSG_DISCONNECT
that paramiko's own packet reader (an independent implementation) decodes."""

from __future__ import annotations

import socket
import threading

import paramiko
import pytest
from paramiko.common import MSG_DISCONNECT
from paramiko.packet import Packetizer

from plugins.ssh.refusal import SERVICE_NOT_AVAILABLE, refuse


@pytest.mark.parametrize("reason", ["x", "state store unreachable", "é" * 40, "r" * 2000])
def test_paramiko_reads_the_disconnect(reason: str) -> None:
    server, client = socket.socketpair()
    worker = threading.Thread(target=refuse, args=(server, reason))
    worker.start()
    client.settimeout(5)
    ident = b""
    while not ident.endswith(b"\r\n"):
        ident += client.recv(1)
    assert ident == b"SSH-2.0-bastion\r\n"
    client.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
    kind, message = Packetizer(client).read_message()
    assert kind == MSG_DISCONNECT
    assert message.get_int() == SERVICE_NOT_AVAILABLE
    assert message.get_text() == reason.encode()[:1000].decode(errors="ignore")
    client.close()
    worker.join(5)
    assert not worker.is_alive()
    server.close()


def test_paramiko_client_fails_with_the_disconnect() -> None:
    server, client = socket.socketpair()
    worker = threading.Thread(target=refuse, args=(server, "not ready"))
    worker.start()
    transport = paramiko.Transport(client)
    with pytest.raises(paramiko.SSHException):
        transport.start_client(timeout=5)
    transport.close()
    worker.join(5)
    server.close()
