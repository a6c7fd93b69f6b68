"""Interactive shells through the bastion: OpenSSH under a pty, recordings, login links."""

from __future__ import annotations

import json
import re
import time

import sqlalchemy as sa

from bastion.core.types import Identity
from bastion.state.store import login_links
from tests.integration.conftest import SSH_USER, wait_for
from tests.integration.ssh.terminal import Terminal

PROMPT = b"$ "


def test_interactive_shell_is_recorded(ssh_env):
    term = Terminal(ssh_env.ssh_argv("ssh-host", "-tt", batch=True))
    try:
        term.expect(PROMPT)
        term.write(b"echo answer-$((6*7))\r")
        term.expect(b"answer-42")
        term.write(b"stty size; printf 'caf\\303\\251\\n'\r")
        term.expect("café".encode())
        term.write(b"exit 0\r")
        assert term.wait() == 0
    finally:
        term.close()
    recordings = wait_for(lambda: [e for e in ssh_env.journal("recording") if "answer-42" in _cast_text(e)])
    assert recordings, ssh_env.journal("recording")
    path = recordings[-1]["data"]["path"]
    lines = open(path, encoding="utf-8").read().splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and header["width"] > 0 and header["height"] > 0
    assert header["env"]["TERM"] == "xterm"
    events = [json.loads(line) for line in lines[1:]]
    assert all(isinstance(t, float | int) and code in ("o", "i", "r") for t, code, _ in events)
    assert [e[0] for e in events] == sorted(e[0] for e in events)
    output = "".join(d for _, c, d in events if c == "o")
    assert "answer-42" in output and "café" in output
    typed = [e["data"]["line"] for e in ssh_env.journal("command") if e["data"].get("mode") == "shell"]
    assert "echo answer-$((6*7))" in typed and "exit 0" in typed
    assert all(e["data"]["audit_only"] for e in ssh_env.journal("command") if e["data"].get("mode") == "shell")


def _cast_text(event) -> str:  # type: ignore[no-untyped-def]
    try:
        return open(event["data"]["path"], encoding="utf-8").read()
    except OSError:
        return ""


def test_shell_input_not_echoed_is_masked(ssh_env):
    term = Terminal(ssh_env.ssh_argv("ssh-host", "-tt"))
    try:
        term.expect(PROMPT)
        term.write(b"read -s -p 'secret? ' s; echo; echo got-${#s}\r")
        term.expect(b"secret? ")
        term.write(b"hunter2\r")
        term.expect(b"got-7")
        term.write(b"exit\r")
        term.wait()
    finally:
        term.close()
    recording = wait_for(lambda: [e for e in ssh_env.journal("recording") if "got-7" in _cast_text(e)])
    text = _cast_text(recording[-1])
    assert "hunter2" not in text
    assert '"i", "*******' in text


def _code(output: bytes) -> str:
    match = re.search(rb"/login/([A-Za-z0-9_-]+)", output)
    assert match, output.decode(errors="replace")
    return match.group(1).decode()


def _login_link_client(ssh_env, *command: str) -> Terminal:  # type: ignore[no-untyped-def]
    argv = ssh_env.ssh_argv("ssh-host", "-o", "PreferredAuthentications=keyboard-interactive", *command,
                            key=None, batch=False)
    return Terminal(argv)


def test_login_link_opens_a_session(ssh_env):
    term = _login_link_client(ssh_env, "echo", "linked-as-$(whoami)")
    try:
        out = term.expect(b"Press Enter after approving")
        assert b"http://portal.test/login/" in out
        code = _code(out)
        alice = Identity(subject="alice", email="alice@example.org", groups=frozenset({"ops"}), idp="saml")
        assert ssh_env.links().approve(code, alice)
        term.write(b"\r")
        term.expect(f"linked-as-{SSH_USER}".encode())
        assert term.wait() == 0
    finally:
        term.close()
    start = [e for e in ssh_env.journal("session.start") if e["data"].get("auth") == "login-link"]
    assert start and start[-1]["data"]["user"] == "alice"


def _interrupt(term) -> int:  # type: ignore[no-untyped-def]
    """Ctrl-C until the client exits (a Ctrl-C that lands while OpenSSH sets up the next
    prompt's terminal can be lost, as a user would see): its exit code."""
    for _ in range(5):
        term.write(b"\x03")
        try:
            return int(term.wait(3))
        except TimeoutError:
            continue
    return int(term.wait())


def test_expired_login_link_fails_and_opens_nothing_upstream(ssh_env):
    before = ssh_env.accepted_upstream()
    term = _login_link_client(ssh_env, "true")
    try:
        code = _code(term.expect(b"Press Enter after approving"))
        alice = Identity(subject="alice", groups=frozenset({"ops"}), idp="saml")
        ssh_env.links().approve(code, alice)
        store = ssh_env.store()
        with store.engine.begin() as conn:  # the link's five minutes are over
            conn.execute(login_links.update().where(login_links.c.code == code).values(expires_at=time.time() - 1))
        term.write(b"\r")
        # refused: OpenSSH asks again with a fresh link; give up there like a user would
        assert wait_for(lambda: term.read_until(b"\0", 0.2).count(b"Press Enter after approving") == 2, 10)
        assert _interrupt(term) != 0
    finally:
        term.close()
    assert ssh_env.accepted_upstream() == before
    assert wait_for(lambda: [e for e in ssh_env.journal("auth")
                             if any("login link not approved" in r for r in e["data"]["reasons"])])
    with ssh_env.store().engine.begin() as conn:
        status = conn.execute(sa.select(login_links.c.status).where(login_links.c.code == code)).scalar()
    assert status == "approved"  # never consumed


def test_client_leaving_during_login_link_wait_is_noticed(ssh_env):
    term = _login_link_client(ssh_env, "true")
    try:
        term.expect(b"Press Enter after approving")
        term.write(b"\r")  # waits for an approval that never comes ...
        time.sleep(0.5)
    finally:
        term.close()  # ... and the user gives up (kills ssh)
    assert wait_for(lambda: [e for e in ssh_env.journal("auth")
                             if "client left while waiting for the login link" in e["data"]["reasons"]], 5)
