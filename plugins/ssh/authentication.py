"""How the client leg authenticates (the :class:`Authentication` half of
:class:`plugins.ssh.server.BastionServer`).

Authentication turns the SSH user name (``[user:]target[/role]``) plus one of three
proofs into an :class:`Identity`, then asks the pipeline for a ``Connect`` decision
whose ``account`` is the upstream account. Nothing is opened upstream here.

* publickey — a key registered in the portal; identity = the owner as of their last
  SAML login. paramiko calls ``check_auth_publickey`` twice (unsigned query, then the
  signed attempt), so the verdict is cached per key.
* password — a bastion token (also accepted as a keyboard-interactive answer).
* keyboard-interactive — a one-time login link: the user opens the URL, signs in
  through SAML and approves; the answer to "Press Enter…" then waits (polling, so only
  this greenlet waits) for that approval.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import TYPE_CHECKING

import gevent
import paramiko

from bastion.core.selector import Selector, parse_username
from bastion.core.types import Identity, Session
from bastion.session import authorize, scrub
from bastion.state.directory import ssh_fingerprint
from bastion.state.throttle import keys as throttle_keys
from plugins.ssh.options import SSHOptions

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.ssh")

OK, FAILED = paramiko.AUTH_SUCCESSFUL, paramiko.AUTH_FAILED


class ClientGone(Exception):
    """The client closed its connection during authentication."""


class Authentication:
    """paramiko's authentication callbacks; the state they keep is set up by the server."""

    ctx: PluginContext
    opts: SSHOptions
    transport: paramiko.Transport
    client_addr: str
    client_ip: str
    session: Session | None
    failures: list[str]
    exhausted: bool
    waiting_for_link: bool
    _pk_cache: dict[bytes, Session | None]
    _username: str
    _link: str | None

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,keyboard-interactive,password"

    def get_banner(self) -> tuple[str | None, str | None]:
        return (self.opts.banner + "\n", "en-US") if self.opts.banner else (None, None)

    def check_auth_password(self, username: str, password: str) -> int:
        if self.exhausted:
            return FAILED
        return self._finish(self._token_session(username, password, "password"))

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if self.exhausted:
            return FAILED
        blob = key.asbytes()
        if blob not in self._pk_cache:
            self._pk_cache[blob] = self._key_session(username, key)
            if self._pk_cache[blob] is None:
                self._count_failure()
        session = self._pk_cache[blob]
        if session is None:
            return FAILED
        self.session = session
        return OK

    def check_auth_interactive(self, username: str, submethods: str) -> int | paramiko.InteractiveQuery:
        if self.exhausted:
            return FAILED
        selector = parse_username(username)
        target = self.ctx.target(selector.target) if selector else None
        if selector is None or target is None or target.protocol != "ssh":
            return self._finish(self._refuse("unknown target" if selector else "bad user name"))
        self._username = username
        base = self._portal_url()
        if not base:
            return paramiko.InteractiveQuery("bastion login", "Paste a bastion token from the portal.\n",
                                             ("Bastion token: ", False))
        self._link = self.ctx.login_links.open("ssh", target.name, self.client_addr)
        instructions = (f"To reach {target.name} through the bastion, open the link below in a browser, "
                        "sign in and approve the connection (or paste a bastion token at the prompt).")
        # The URL goes into the prompt itself: OpenSSH prints the instructions only at
        # LogLevel INFO or above, but always shows the prompt.
        prompt = f"\n    {base}/login/{self._link}\n\nPress Enter after approving in the browser: "
        return paramiko.InteractiveQuery("bastion login", instructions, (prompt, False))

    def check_auth_interactive_response(self, responses: list[str]) -> int:
        if self.exhausted:
            return FAILED
        answer = responses[0].strip() if responses else ""
        link, self._link = self._link, None
        if answer:
            return self._finish(self._token_session(self._username, answer, "keyboard-interactive"))
        if link is None:
            return self._finish(self._refuse("empty token"))
        self.waiting_for_link = True
        try:
            identity = self.ctx.login_links.wait(link, self.opts.login_link_timeout, sleep=self._link_sleep)
        except ClientGone:
            return self._finish(self._refuse("client left while waiting for the login link"))
        finally:
            self.waiting_for_link = False
        if identity is None:
            return self._finish(self._refuse("login link not approved (expired, denied or timed out)"))
        return self._finish(self._identity_session(self._username, identity, "login-link", {}))

    def _link_sleep(self, seconds: float) -> None:
        # The wait runs on the transport's greenlet, so nobody reads the socket meanwhile:
        # peek at it to notice a client that gave up instead of polling for minutes.
        gevent.sleep(seconds)
        try:
            gone = self.transport.sock.recv(1, socket.MSG_PEEK) == b""
        except TimeoutError:  # paramiko keeps a 0.1 s timeout on its socket: nothing to read
            gone = False
        except OSError:
            gone = True
        if gone:
            raise ClientGone

    def _portal_url(self) -> str:
        saml = self.ctx.settings.config.saml
        base = self.opts.portal_url or (saml.sp_base_url if saml is not None else "")
        return base.rstrip("/")

    def _token_session(self, username: str, token: str, method: str) -> Session | None:
        selector = parse_username(username)
        attempt = throttle_keys(self.client_ip, selector.user if selector else "")
        throttle = self.ctx.throttle
        wait = throttle.wait(attempt) if throttle is not None else 0.0
        if wait > 0:
            return self._refuse(f"throttled: too many failed logins (retry in {wait:.0f} s)")
        info = self.ctx.tokens.verify(token)
        if info is None:
            if throttle is not None:
                throttle.failed(attempt)
            return self._refuse("invalid, expired or revoked token")
        if throttle is not None:
            throttle.succeeded(attempt)
        return self._identity_session(username, info.identity(), method, {"token_id": info.id}, info.reason)

    def _key_session(self, username: str, key: paramiko.PKey) -> Session | None:
        fingerprint = ssh_fingerprint(key.get_name(), key.asbytes())
        owner = self.ctx.ssh_keys.owner(key.get_name(), key.asbytes())
        if owner is None:
            return self._refuse(f"unregistered key {fingerprint}")
        identity = self.ctx.users.get(owner)
        if identity is None:
            return self._refuse(f"key owner {owner} never signed in to the portal")
        return self._identity_session(username, identity, "publickey", {"key": fingerprint})

    def _identity_session(self, username: str, identity: Identity, method: str, extra: dict[str, str],
                          reason: str = "") -> Session | None:
        selector = parse_username(username)
        if selector is None:
            return self._refuse("bad user name")
        if selector.user and selector.user != identity.subject:
            return self._refuse(f"user name names {selector.user}, credential belongs to {identity.subject}")
        return self._authorize(selector, identity, method, extra, reason)

    def _authorize(self, selector: Selector, identity: Identity, method: str, extra: dict[str, str],
                   reason: str) -> Session | None:
        target = self.ctx.target(selector.target)
        if target is None or target.protocol != "ssh":
            return self._refuse(f"unknown target {selector.target!r}")
        session = Session(id=Session.new_id(), identity=identity, target=target, account="",
                          client_addr=self.client_addr, started_at=time.time(), reason=reason,
                          protocol_info={"role": selector.role, "auth": method,
                                         "client_version": str(self.transport.remote_version), **extra})
        granted, decision, event = authorize(self.ctx, session)
        if granted is None:
            return self._refuse(f"{identity.subject}: access to {target.name} denied by "
                                f"{decision.rule} (ref {event.id})")
        return granted

    def _refuse(self, reason: str) -> Session | None:
        """Record why an attempt failed; always None (so callers can ``return self._refuse(…)``).
        The reason may quote what the client sent (a user name): scrubbed of secrets first."""
        reason = scrub(self.ctx, reason)
        self.failures.append(reason)
        log.info("ssh authentication refused: %s", reason, extra={"client": self.client_addr})
        return None

    def _count_failure(self) -> None:
        if len(self.failures) >= self.opts.max_auth_attempts:
            # Every further attempt fails unheard, and the connection is closed: paramiko
            # would otherwise go on answering attempts until the plugin's loop looks.
            self.exhausted = True
            self.transport.close()

    def _finish(self, session: Session | None) -> int:
        if session is None:
            self._count_failure()
            return FAILED
        self.session = session
        return OK
