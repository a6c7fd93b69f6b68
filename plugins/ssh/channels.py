"""Channel handlers: each accepted channel runs in its own greenlet.

The verdict always comes first: an exec command (and the file transfer of a legacy
``scp``), a shell or a subsystem is admitted by the session's guard before the upstream
connection is even opened, a forward before the channel is accepted. Only with the
admission is the target reached (one upstream transport per client connection, opened
on first use) and the channel bridged by :mod:`relay`.
Shell channels (:mod:`shell_channel`) are recorded as asciicasts and their typed command
lines reconstructed for the audit (never enforced); exec output is captured up to a
limit. What the handlers share (refusal, upstream twin, recording) is :mod:`channel_setup`.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Mapping
from typing import Any

import paramiko

from bastion.core import records
from bastion.core.types import Command, Decision, Event, FileOp, Forward, Verdict
from bastion.guard import Admission
from plugins.ssh.channel_setup import (
    DENIED_STATUS,
    UPSTREAM_FAILED_STATUS,
    close_cast,
    exit_data,
    open_channel,
    open_upstream,
    refuse_channel,
    start_cast,
)
from plugins.ssh.options import forward_allowed
from plugins.ssh.relay import bridge_session, bridge_stream
from plugins.ssh.scp import ScpRequest, UnparseableScp, parse_scp, scp_refusal
from plugins.ssh.server import ChannelRequest
from plugins.ssh.session import DEFAULT_RULE, SSHSession, denial_text
from plugins.ssh.sftp import SftpBridge
from plugins.ssh.shell_channel import run_shell
from plugins.ssh.upstream_transport import UpstreamError

log = logging.getLogger("bastion.ssh")


def judge_forward(sess: SSHSession, req: ChannelRequest) -> Decision:
    """Admit ``ssh -L`` (it cannot wait for an approval: it runs inside the protocol's
    callback). Rules first; when no rule speaks, only ``allow_forward`` destinations."""
    host, port = req.dest
    event = Forward(session=sess.session, host=host, port=port)

    def allow_forward(decision: Decision) -> Decision:
        if decision.verdict is not Verdict.ALLOW or decision.rule != DEFAULT_RULE:
            return decision
        patterns = list(sess.opts.allow_forward) + list(sess.session.target.options.get("allow_forward", []))
        if forward_allowed(patterns, host, port):
            return decision
        return Decision.deny(rule="ssh:allow_forward", reason="destination not in allow_forward",
                             message=f"forwarding to {host}:{port} is not allowed")

    sess.forwards += 1
    ruling = sess.guard.admit(event, records.FORWARD, {"host": host, "port": port, "origin": req.origin[0]},
                              can_hold=False, refine=allow_forward)
    if isinstance(ruling, Admission):
        req.admission = ruling
    return ruling.decision


def handle(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest) -> None:
    """Run one accepted channel to its end; never raises."""
    number = sess.next_channel()
    try:
        if req.kind == "direct-tcpip":
            run_forward(sess, chan, req)
            return
        if not req.ready.wait(timeout=sess.opts.channel_request_timeout):
            chan.close()
            return
        if req.request == "exec":
            run_exec(sess, chan, req, number)
        elif req.request == "shell":
            run_shell(sess, chan, req, number)
        else:
            run_sftp(sess, chan, req, number)
    except Exception:  # noqa: BLE001 - one broken channel must not end the session
        log.exception("channel handler failed", extra={"session_id": sess.session.id})
        chan.close()
    finally:
        req.done = True


class _Capture:
    """The first ``limit`` bytes of an exec's output, for the audit event."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        if self.size < self.limit:
            self.parts.append(data[:self.limit - self.size])
            self.size += len(self.parts[-1])

    def text(self) -> str:
        return b"".join(self.parts).decode("utf-8", errors="replace")


_PLAIN_ENV = re.compile(r"LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|COLORTERM")
"""Variables a client may send (``SendEnv``) that make no program run or load code."""


def judged_line(line: str, env: Mapping[str, str]) -> str:
    """The exec line as the target's shell runs it: the variables the client sent (``env``
    requests, allowed by ``env_allow`` and the target's ``AcceptEnv``) are in force for
    the whole line, so any but the plain locale ones are judged as ``export`` in front of
    it (``PAGER=…`` runs its value; ``LD_PRELOAD``, ``BASH_ENV`` load code the line does not
    show: policies.shell.variables)."""
    exports = [f"export {name}={shlex.quote(value)}; " for name, value in sorted(env.items())
               if not _PLAIN_ENV.fullmatch(name)]
    return "".join(exports) + line


def run_exec(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, number: int) -> None:
    line = req.command.decode("utf-8", errors="replace")
    scp = parse_scp(line)
    events: list[Event] = []
    if isinstance(scp, ScpRequest):  # legacy scp: each path is a file transfer, judged before the command
        home = sess.upstream.home()
        events = [FileOp(session=sess.session, op=scp.op, path=p, home=home) for p in scp.paths]
    events.append(Command(session=sess.session, line=judged_line(line, req.env)))
    sess.commands += 1
    data: dict[str, Any] = {"mode": "exec", "channel": number,
                            **({"scp": {"op": scp.op, "path": scp.path, "recursive": scp.recursive}} if scp else {})}

    def unparseable_scp(decision: Decision) -> Decision:
        if not isinstance(scp, UnparseableScp) or decision.verdict is not Verdict.ALLOW:
            return decision
        return Decision.deny(rule="ssh:scp-unparseable", reason=scp.reason,
                             message="this scp transfer cannot be judged, so it is refused")

    ruling = sess.guard.admit(events, records.COMMAND, data, text=line, cancelled=lambda: chan.closed,
                              refine=unparseable_scp, refused={"exit_status": DENIED_STATUS})
    if not isinstance(ruling, Admission):
        text = denial_text("file transfer" if scp and isinstance(ruling.event, FileOp) else "command", ruling)
        refuse_channel(chan, text, DENIED_STATUS, req.pty is not None, scp_refusal(text) if scp else b"")
        return
    up = open_upstream(sess, chan, req, ruling)
    if up is None:
        sess.guard.finish(ruling, {"result": "upstream unavailable"})
        return
    capture = _Capture(sess.opts.exec_capture_bytes)
    cast = start_cast(sess, req, number, line) if req.pty is not None else None

    def on_input(data: bytes) -> None:
        sess.touch()
        if cast is not None:
            cast.input(data)

    def on_output(data: bytes) -> None:
        capture.add(data)
        if cast is not None:
            cast.output(data)

    up.exec_command(req.command)
    info = bridge_session(chan, up, on_input=on_input, on_output=on_output, on_stderr=capture.add,
                          live=sess.live_streams())
    if cast is not None:
        close_cast(sess, cast, number)
    sess.guard.finish(ruling, {**exit_data(sess, info), "output": sess.redact(capture.text()),
                               "output_truncated": capture.size >= capture.limit})


def run_sftp(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, number: int) -> None:
    # Its file operations are judged one by one, not a line: a variable that makes the
    # server load code (LD_PRELOAD) would act unseen, so only the locale ones go on.
    req.env = {name: value for name, value in req.env.items() if _PLAIN_ENV.fullmatch(name)}
    opened = open_channel(sess, chan, req, "subsystem:sftp", {"channel": number, "type": "sftp"})
    if opened is None:
        return
    admission, up = opened
    try:
        up.invoke_subsystem("sftp")
    except (paramiko.SSHException, EOFError, OSError):
        refuse_channel(chan, "bastion: the target has no sftp subsystem", UPSTREAM_FAILED_STATUS, False)
        sess.guard.finish(admission, {"result": "no sftp subsystem"})
        return
    info = SftpBridge(sess, chan, up).run()
    sess.guard.finish(admission, exit_data(sess, info))


def run_forward(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest) -> None:
    admission = req.admission
    assert admission is not None  # only admitted forwards get a channel (server.check_channel_direct_tcpip_request)
    try:
        up = sess.upstream.open_forward(admission, req.dest, req.origin)
    except (UpstreamError, paramiko.SSHException, EOFError, OSError) as exc:
        chan.close()
        sess.guard.finish(admission, {"result": "failed", "error": getattr(exc, "message", "") or repr(exc)})
        return
    bytes_in, bytes_out = bridge_stream(chan, up, sess.touch)
    sess.count(bytes_in, bytes_out)
    sess.guard.finish(admission, {"result": "closed", "bytes_in": bytes_in, "bytes_out": bytes_out})
