"""Upstream login with a short-lived certificate of the bastion's user CA (no standing key).

Target option ``credential: ssh-certificate``: for each upstream connection the bastion
makes a fresh ed25519 key (never stored) and signs a certificate for it with
:class:`bastion.state.ssh_ca.UserCA`: principal = the target account's OS user, valid
``certificate_validity`` seconds (default 60), ``source-address`` = the bastion's own
address on that connection (``certificate_source_address``: ``auto``, an address list to
use instead — behind NAT — or ``none`` to omit it), key id = person and session id.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bastion.core.types import Session, Target
from bastion.state.ssh_ca import DEFAULT_VALIDITY, UserCA, key_id

if TYPE_CHECKING:
    from bastion.context import PluginContext

CERTIFICATE = "ssh-certificate"
_CAS: dict[Path, UserCA] = {}


def wants_certificate(target: Target) -> bool:
    return target.options.get("credential") == CERTIFICATE


def user_ca(ctx: PluginContext) -> UserCA:
    state = Path(ctx.settings.state_dir)
    ca = _CAS.get(state)
    if ca is None:
        ca = _CAS[state] = UserCA.open(state)
    return ca


def source_address(target: Target, sock: Any) -> str | None:
    """The ``source-address`` option: this connection's local address unless configured."""
    setting = str(target.options.get("certificate_source_address", "auto"))
    if setting == "none":
        return None
    if setting == "auto":
        return str(sock.getsockname()[0]).split("%", 1)[0]  # an IPv6 scope id is no part of an address list
    return setting


def certified_key(ctx: PluginContext, target: Target, username: str, session: Session | None,
                  sock: Any) -> paramiko.PKey:
    """A fresh key with its certificate loaded, for ``auth_publickey`` as ``username``."""
    private = ed25519.Ed25519PrivateKey.generate()
    person, session_id = (session.identity.subject, session.id) if session is not None else ("bastion", "-")
    cert = user_ca(ctx).sign(private.public_key(), principal=username, key_id=key_id(person, session_id),
                             source_address=source_address(target, sock),
                             validity=float(target.options.get("certificate_validity", DEFAULT_VALIDITY)))
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    key = paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode("ascii")))
    key.load_certificate(cert.decode("ascii"))
    return key


def option_problems(options: dict[str, Any]) -> list[str]:
    """Problems with the certificate options of an SSH target."""
    problems = []
    credential = options.get("credential", "vault")
    if credential not in ("vault", CERTIFICATE):
        problems.append(f"credential must be 'vault' (the vaulted key or password) or '{CERTIFICATE}'")
    validity = options.get("certificate_validity", DEFAULT_VALIDITY)
    if isinstance(validity, bool) or not isinstance(validity, int | float) or not 5 <= validity <= 3600:
        problems.append("certificate_validity must be 5 to 3600 seconds")
    address = options.get("certificate_source_address", "auto")
    if not isinstance(address, str) or not address or any(c.isspace() for c in address):
        problems.append("certificate_source_address must be 'auto', 'none' or an address list (a,b/24)")
    return problems
