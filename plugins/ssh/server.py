"""Client leg: the bastion is the SSH server the user's client talks to (paramiko server side).

Authentication: :mod:`plugins.ssh.authentication`.

Channel requests are recorded into :class:`ChannelRequest` objects and handed to the
driver's greenlets; these callbacks run on the transport's greenlet and return at once.
Agent forwarding, X11 and remote (``-R``) forwarding are refused.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent
import gevent.event
import gevent.lock
import paramiko

from bastion.core.types import Decision, Session, Verdict
from bastion.guard import Admission
from plugins.ssh.authentication import Authentication
from plugins.ssh.options import SSHOptions

if TYPE_CHECKING:
    from bastion.context import PluginContext
    from plugins.ssh.session import SSHSession

log = logging.getLogger("bastion.ssh")

PROHIBITED = paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


@dataclass
class PtySpec:
    term: bytes
    width: int
    height: int
    width_px: int
    height_px: int
    modes: bytes


@dataclass
class ChannelRequest:
    """What the client asked of one channel, filled in by the callbacks below."""

    chanid: int
    kind: str
    """``session`` or ``direct-tcpip``."""
    pty: PtySpec | None = None
    env: dict[str, str] = field(default_factory=dict)
    request: str = ""
    """``shell``, ``exec`` or ``subsystem`` once the client asked for one."""
    command: bytes = b""
    subsystem: str = ""
    dest: tuple[str, int] = ("", 0)
    origin: tuple[str, int] = ("", 0)
    admission: Admission | None = None
    """A forward's admission (forwards are admitted before their channel is accepted)."""
    ready: gevent.event.Event = field(default_factory=gevent.event.Event)
    on_resize: Callable[[int, int, int, int], None] | None = None
    channel: paramiko.Channel | None = None
    """The client's channel once accepted (for "closing" notices)."""
    done: bool = False


class BastionServer(Authentication, paramiko.ServerInterface):
    """The client leg of one connection: authentication (:class:`Authentication`), then the
    channel requests, recorded for the plugin's greenlets."""

    def __init__(self, ctx: PluginContext, opts: SSHOptions, client_addr: tuple[str, int],
                 transport: paramiko.Transport, make_session: Callable[[Session], SSHSession],
                 judge_forward: Callable[[SSHSession, ChannelRequest], Decision]) -> None:
        self.ctx, self.opts, self.transport = ctx, opts, transport
        self.client_addr = f"{client_addr[0]}:{client_addr[1]}"
        self.client_ip = str(client_addr[0])
        self._make_session, self._judge_forward = make_session, judge_forward
        self.session: Session | None = None
        self.sess: SSHSession | None = None
        self._session_lock = gevent.lock.RLock()
        self.failures: list[str] = []
        self.exhausted = False
        self.waiting_for_link = False
        self.requests: dict[int, ChannelRequest] = {}
        self._pk_cache: dict[bytes, Session | None] = {}
        self._username = ""
        self._link: str | None = None

    # ------------------------------------------------------------------ channels

    def ensure_session(self) -> SSHSession | None:
        """The authenticated session, created on first use (by a channel or the plugin's loop).

        Once: paramiko's transport greenlet (a channel request) and the plugin's loop may both
        ask at once, and creating it waits on the journal and the state store."""
        with self._session_lock:
            if self.sess is None and self.session is not None and self.transport.is_authenticated():
                self.sess = self._make_session(self.session)
        return self.sess

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind != "session" or self.ensure_session() is None:
            return PROHIBITED
        self.requests[chanid] = ChannelRequest(chanid, kind)
        return paramiko.OPEN_SUCCEEDED

    def check_channel_direct_tcpip_request(self, chanid: int, origin: tuple[str, int],
                                           destination: tuple[str, int]) -> int:
        sess = self.ensure_session()
        if sess is None:
            return PROHIBITED
        req = ChannelRequest(chanid, "direct-tcpip", dest=(str(destination[0]), int(destination[1])),
                             origin=(str(origin[0]), int(origin[1])))
        if self._judge_forward(sess, req).verdict is not Verdict.ALLOW:
            return PROHIBITED
        self.requests[chanid] = req
        return paramiko.OPEN_SUCCEEDED

    def _request(self, channel: paramiko.Channel) -> ChannelRequest | None:
        req = self.requests.get(channel.get_id())
        return req if req is not None and req.kind == "session" and not req.request else None

    def check_channel_pty_request(self, channel: paramiko.Channel, term: bytes, width: int, height: int,
                                  pixelwidth: int, pixelheight: int, modes: bytes) -> bool:
        req = self._request(channel)
        if req is None:
            return False
        req.pty = PtySpec(term, width, height, pixelwidth, pixelheight, modes)
        return True

    def check_channel_env_request(self, channel: paramiko.Channel, name: bytes, value: bytes) -> bool:
        req = self._request(channel)
        key = name.decode("utf-8", errors="replace")
        if req is None or not self.opts.env_allowed(key) or len(req.env) >= 32:
            return False
        req.env[key] = value.decode("utf-8", errors="replace")[:256]
        return True

    def _start(self, channel: paramiko.Channel, request: str, **values: Any) -> bool:
        req = self._request(channel)
        if req is None:
            return False
        for key, value in values.items():
            setattr(req, key, value)
        req.request = request
        req.ready.set()
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return self._start(channel, "shell")

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        return self._start(channel, "exec", command=bytes(command))

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        return name == "sftp" and self._start(channel, "subsystem", subsystem=name)

    def check_channel_window_change_request(self, channel: paramiko.Channel, width: int, height: int,
                                            pixelwidth: int, pixelheight: int) -> bool:
        req = self.requests.get(channel.get_id())
        if req is None or req.pty is None:
            return False
        req.pty = dataclasses.replace(req.pty, width=width, height=height, width_px=pixelwidth,
                                      height_px=pixelheight)
        if req.on_resize is not None:
            req.on_resize(width, height, pixelwidth, pixelheight)
        return True

    def check_channel_forward_agent_request(self, channel: paramiko.Channel) -> bool:
        return False  # the user's agent never reaches a target: the bastion holds the credential

    def check_channel_x11_request(self, channel: paramiko.Channel, single_connection: bool, auth_protocol: str,
                                  auth_cookie: bytes, screen_number: int) -> bool:
        return False

    def check_port_forward_request(self, address: str, port: int) -> bool:
        return False  # remote (-R) forwarding would open a listener on the target for the user

    def check_global_request(self, kind: str, msg: paramiko.Message) -> bool:
        return False  # keepalive@openssh.com gets a failure reply, which clients count as alive
