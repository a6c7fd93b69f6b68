"""Malformed and truncated client packets through a real socket.

Each case opens its own connection and misbehaves at one point: right after the
greeting (plain TCP), after TLS instead of a proper handshake response, or after a
successful login. The bastion must end *that* connection cleanly (an ERR packet or a
close, never a hang once the client is gone, never an unhandled exception in its log)
and keep serving everyone else.
"""

from __future__ import annotations

import socket
import ssl
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.mysql.codec import (
    CLIENT_CONNECT_ATTRS,
    CLIENT_CONNECT_WITH_DB,
    CLIENT_LONG_PASSWORD,
    CLIENT_PLUGIN_AUTH,
    CLIENT_PLUGIN_AUTH_LENENC_DATA,
    CLIENT_PROTOCOL_41,
    CLIENT_SECURE_CONNECTION,
    CLIENT_SSL,
    HandshakeResponse41,
    build_ssl_request,
    frame,
)
from tests.integration.conftest import BastionProc
from tests.integration.mysql.clients import pymysql_conn

CAPS = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
        | CLIENT_PLUGIN_AUTH_LENENC_DATA | CLIENT_CONNECT_WITH_DB | CLIENT_CONNECT_ATTRS | CLIENT_SSL)
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE
CLOSE_WITHIN = 10.0
"""Seconds the bastion may take to close a connection whose client has gone."""


class Raw:
    """A hand-driven MySQL client connection (plain TCP, then TLS)."""

    def __init__(self, b: BastionProc) -> None:
        self.sock: socket.socket = socket.create_connection(("127.0.0.1", b.ports["mysql"]), timeout=10)
        self.buf = b""
        seq, greeting = self.packet()
        assert seq == 0 and greeting[0] == 10

    def packet(self, timeout: float = 10) -> tuple[int, bytes]:
        self.sock.settimeout(timeout)
        while len(self.buf) < 4 or len(self.buf) < 4 + int.from_bytes(self.buf[:3], "little"):
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
        n = int.from_bytes(self.buf[:3], "little")
        seq, payload, self.buf = self.buf[3], self.buf[4 : 4 + n], self.buf[4 + n :]
        return seq, payload

    def send(self, payload: bytes, seq: int) -> None:
        self.sock.sendall(frame(payload, seq)[0])

    def start_tls(self) -> None:
        self.send(build_ssl_request(CAPS, 1 << 24, 45), 1)
        self.sock = TLS.wrap_socket(self.sock)

    def response(self, user: str = "shop-db") -> bytes:
        return HandshakeResponse41(capabilities=CAPS, max_packet=1 << 24, collation=45, username=user,
                                   auth_response=b"\x01" * 32, database="shop", auth_plugin="caching_sha2_password",
                                   attrs={"_client_name": "fuzz"}).build()

    def login(self, token: str) -> None:
        self.start_tls()
        self.send(self.response(), 2)
        seq, more = self.packet()
        assert more == b"\x01\x04", more  # perform full authentication
        self.send(token.encode() + b"\0", seq + 1)
        _, ok = self.packet()
        assert ok[0] == 0, ok

    def leave_and_wait_for_close(self) -> list[bytes]:
        """Stop sending (half-close), then read until the bastion closes; returns packets seen."""
        self.sock.settimeout(CLOSE_WITHIN)
        plain = self.sock
        try:
            plain.shutdown(socket.SHUT_WR)  # (TLS too: a TCP FIN without close_notify) the peer sees EOF
        except OSError:
            return []  # already reset by the bastion: closed
        if isinstance(plain, ssl.SSLSocket):
            plain = socket.socket(fileno=plain.detach())
        plain.settimeout(CLOSE_WITHIN)
        seen: list[bytes] = []
        deadline = time.monotonic() + CLOSE_WITHIN
        try:
            while time.monotonic() < deadline:
                data = plain.recv(65536)
                if not data:
                    return seen
                seen.append(data)
        except (ConnectionResetError, BrokenPipeError):
            return seen
        except TimeoutError:
            pass
        finally:
            plain.close()
        raise AssertionError(f"the bastion kept the connection open {CLOSE_WITHIN}s after the client left")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


@pytest.fixture(scope="module")
def token(bastion):
    return bastion.token("alice", "dba", ttl=900)


@pytest.fixture(scope="module", autouse=True)
def survives(bastion, token):
    """After the whole module: alive, still serving, no unhandled exception logged."""
    start = bastion.log.stat().st_size
    yield
    assert bastion.proc.poll() is None, "the bastion died"
    with pymysql_conn(bastion, token) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM customers")
        assert cur.fetchone() == (5,)
    with open(bastion.log, "rb") as f:
        f.seek(start)
        new = f.read().decode(errors="replace")
    assert "Traceback" not in new, new[new.index("Traceback") - 200 :][:4000]


def still_serving(b: BastionProc, token: str) -> None:
    with pymysql_conn(b, token) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


@FUZZ
@given(data=st.binary(min_size=1, max_size=300), framed=st.booleans(), seq=st.integers(0, 255))
def test_garbage_after_greeting(bastion, data, framed, seq):
    raw = Raw(bastion)
    try:
        raw.sock.sendall(frame(data, seq)[0] if framed else data)
        raw.leave_and_wait_for_close()
    finally:
        raw.close()
    assert bastion.proc.poll() is None


@FUZZ
@given(cut=st.integers(0, 200), extra=st.binary(max_size=64), mode=st.sampled_from(["truncated", "garbage"]))
def test_bad_handshake_response_inside_tls(bastion, token, cut, extra, mode):
    raw = Raw(bastion)
    try:
        raw.start_tls()
        if mode == "truncated":
            payload = raw.response()[:cut]  # a well-framed packet holding a cut response
        else:
            payload = extra
        raw.send(payload, 2)
        raw.leave_and_wait_for_close()
    finally:
        raw.close()
    assert bastion.proc.poll() is None


@FUZZ
@given(payload=st.one_of(st.binary(min_size=1, max_size=200),
                         st.tuples(st.sampled_from([0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C, 0x0E, 0x11, 0x1B, 0x1F]),
                                   st.binary(max_size=20)).map(lambda t: bytes([t[0]]) + t[1])),
       mode=st.sampled_from(["framed", "raw", "short-body"]))
def test_garbage_after_login(bastion, token, payload, mode):
    raw = Raw(bastion)
    try:
        raw.login(token)
        if mode == "framed":
            raw.send(payload, 0)
        elif mode == "raw":
            raw.sock.sendall(payload)
        else:  # the header promises more than ever arrives
            raw.sock.sendall((len(payload) + 1000).to_bytes(3, "little") + b"\0" + payload)
        raw.leave_and_wait_for_close()
    finally:
        raw.close()
    assert bastion.proc.poll() is None


@pytest.mark.parametrize("phase", ["greeting", "login"])
def test_oversized_length_header(bastion, token, phase):
    """A header announcing more than the bastion accepts: ERR or close at once, no buffering."""
    raw = Raw(bastion)
    try:
        if phase == "login":
            raw.login(token)
            # a split packet whose chunks add up past max_packet (64 MiB)
            chunk = b"\xff\xff\xff\x00" + b"\x03" + b"x" * (0xFFFFFF - 1)
            try:
                for i in range(5):
                    raw.sock.sendall(bytes(chunk[:3]) + bytes([i]) + chunk[4:])
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
        else:
            raw.sock.sendall((0xFFFFF0).to_bytes(3, "little") + b"\x01" + b"\0" * 64)
        seen = raw.leave_and_wait_for_close() if phase == "greeting" else _read_to_close(raw)
        del seen
    finally:
        raw.close()
    still_serving(bastion, token)


def _read_to_close(raw: Raw) -> None:
    """After an oversized packet post-login: an ERR 1047 (malformed packet) and then EOF."""
    try:
        _, err = raw.packet(timeout=CLOSE_WITHIN)
        assert err[0] == 0xFF and int.from_bytes(err[1:3], "little") == 1047, err
        with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
            raw.packet(timeout=CLOSE_WITHIN)
    except (ConnectionError, ssl.SSLError):
        pass  # the close raced our read of the ERR: a close is fine too


def test_others_served_while_a_client_stalls_mid_packet(bastion, token):
    """A client that stops in the middle of a packet blocks only its own greenlet."""
    stalled = Raw(bastion)
    try:
        stalled.login(token)
        stalled.sock.sendall((5000).to_bytes(3, "little") + b"\0" + b"\x03SELECT ")
        started = time.monotonic()
        for _ in range(3):
            still_serving(bastion, token)
        assert time.monotonic() - started < 5
    finally:
        stalled.close()


def test_sequence_id_255_wraps_in_answers(bastion, token):
    """Answers to a packet with sequence id 255 go out with id 0 (found by the fuzzer:
    framing 256 crashed the connection handler)."""
    raw = Raw(bastion)
    try:
        raw.send(b"\x00" * 40, 255)  # not an SSLRequest: ERR 3159 before any secret
        seq, err = raw.packet()
        assert (seq, err[0], int.from_bytes(err[1:3], "little")) == (0, 0xFF, 3159)
    finally:
        raw.close()
    raw = Raw(bastion)
    try:
        raw.login(token)
        raw.send(b"\x99", 255)  # unknown command: ERR 1047, and the session goes on
        seq, err = raw.packet()
        assert (seq, err[0], int.from_bytes(err[1:3], "little")) == (0, 0xFF, 1047)
        raw.send(b"\x0e", 0)  # COM_PING
        assert raw.packet()[1][0] == 0x00
    finally:
        raw.close()


@pytest.mark.parametrize("payload", [b"\x11", b"\x11alice", b"\x11alice\x00\xff", b"\x11alice\x00\x05ab"],
                         ids=["empty", "unterminated-user", "short-auth", "cut-auth"])
def test_malformed_change_user_is_refused_with_an_error(bastion, token, payload):
    """A COM_CHANGE_USER the bastion cannot parse (found by the fuzzer: the handler crashed)
    gets ERR 1835 and ends the connection; the module's check finds no traceback."""
    raw = Raw(bastion)
    try:
        raw.login(token)
        raw.send(payload, 0)
        seq, err = raw.packet()
        assert (err[0], int.from_bytes(err[1:3], "little")) == (0xFF, 1835), err
        with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
            raw.packet(timeout=CLOSE_WITHIN)
    finally:
        raw.close()
    still_serving(bastion, token)
