"""The bastion's SSH user certificate authority (``<state_dir>/ssh/user_ca``).

Targets that trust it (``TrustedUserCAKeys``) need no ``authorized_keys`` entry and no
standing credential of the bastion: for each upstream connection the SSH plugin makes a
fresh key and has this CA sign a certificate for it that names the target account as
its only principal, lives about a minute, may be used only from the bastion's address
(``source-address``) and carries the person and session in its key id, which the
target's ``sshd`` logs. The CA key is ed25519 in OpenSSH format, mode 0600, created on
first use; ``bastion ssh-ca export`` prints its public line.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import SSHCertificateBuilder, SSHCertificateType

CA_COMMENT = "bastion-user-ca"
DEFAULT_VALIDITY = 60.0
CLOCK_SKEW = 30.0
"""Seconds a certificate is valid *before* it was made: a target's clock may lag a little."""
EXTENSIONS = (b"permit-port-forwarding", b"permit-pty")
"""What sessions through the bastion use (shells, exec, SFTP, admitted forwards); no agent
or X11 forwarding, no ~/.ssh/rc."""


class UserCA:
    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def open(cls, state_dir: str | Path, create: bool = True) -> UserCA:
        """The CA of ``state_dir`` (made, 0600 in a 0700 directory, if missing and ``create``)."""
        path = Path(state_dir) / "ssh" / "user_ca"
        if not path.exists():
            if not create:
                raise FileNotFoundError(f"no SSH user CA at {path}")
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it meanwhile: use theirs
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pem)
        key = serialization.load_ssh_private_key(path.read_bytes(), None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{path} is not an ed25519 key")
        return cls(key)

    def public_line(self) -> str:
        """The CA's public key as one ``TrustedUserCAKeys`` line."""
        blob = self._key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        return f"{blob.decode()} {CA_COMMENT}"

    def sign(self, public_key: ed25519.Ed25519PublicKey, *, principal: str, key_id: str,
             source_address: str | None, validity: float = DEFAULT_VALIDITY, now: float | None = None) -> bytes:
        """An OpenSSH user certificate (``ssh-ed25519-cert-v01@openssh.com …`` line) for
        ``public_key``: principal ``principal`` only, valid from ``now - CLOCK_SKEW`` to
        ``now + validity``, usable only from ``source_address`` when given."""
        now = time.time() if now is None else now
        builder = (SSHCertificateBuilder().public_key(public_key).serial(secrets.randbits(64))
                   .type(SSHCertificateType.USER).key_id(key_id.encode()).valid_principals([principal.encode()])
                   .valid_after(max(int(now - CLOCK_SKEW), 0)).valid_before(int(now + validity)))
        if source_address:
            builder = builder.add_critical_option(b"source-address", source_address.encode())
        for name in EXTENSIONS:
            builder = builder.add_extension(name, b"")
        return builder.sign(self._key).public_bytes()


def key_id(person: str, session_id: str) -> str:
    """The certificate's key id: who and which session (``sshd`` logs it on login)."""
    clean = "".join(c if c.isprintable() and c not in "\"\\" else "?" for c in person)
    return f"bastion:{clean}:session={session_id}"
