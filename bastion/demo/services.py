"""Throwaway real services on 127.0.0.1: MariaDB, OpenSSH sshd, SimpleSAMLphp.

Used by ``bastion demo`` and by the integration-test fixtures, so the demo and the
tests run exactly the same servers. Every process gets its own session (process group)
and ``stop`` kills the whole group: ``php -S`` workers and sshd children included.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bastion.config.model import TLSConfig
from bastion.runtime.tls import ensure_certificate


class ServiceError(RuntimeError):
    """A service could not be started; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"{what} exited with {proc.returncode}; see {log}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceError(f"{what} did not open port {port} within {timeout}s; see {log}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def need(binary: str, package: str) -> str:
    found = shutil.which(binary) or next((p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}")
                                          if os.path.exists(p)), None)
    if not found:
        raise ServiceError(f"{binary} not found: install the Debian package {package}")
    return found


@dataclass
class Service:
    name: str
    workdir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def spawn(self, argv: list[str], extra_env: dict[str, str] | None = None) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**os.environ, **(extra_env or {})}, start_new_session=True)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        try:  # children that left the group's leader (php workers) die with the group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class MariaDB(Service):
    """A private ``mariadbd`` with TLS, ed25519 and an ``admin`` account over TCP."""

    def __init__(self, workdir: Path, port: int = 0) -> None:
        super().__init__("mariadb", workdir, port or free_port())
        self.socket = workdir / "mysqld.sock"

    def start(self) -> MariaDB:
        need("mariadbd", "mariadb-server")
        data = self.workdir / "data"
        if not data.exists():
            self.workdir.mkdir(parents=True, exist_ok=True)
            subprocess.run([need("mariadb-install-db", "mariadb-server"), "--no-defaults", "--user=root",
                            f"--datadir={data}", "--auth-root-authentication-method=socket", "--skip-test-db",
                            "--skip-name-resolve"], check=True, capture_output=True)
        cert, key = ensure_certificate(TLSConfig(hostnames=["127.0.0.1", "localhost"]), self.workdir)
        self.spawn([need("mariadbd", "mariadb-server"), "--no-defaults", "--user=root", f"--datadir={data}",
                    f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
                    f"--pid-file={self.workdir / 'mysqld.pid'}", f"--log-error={self.log}",
                    "--skip-name-resolve", "--innodb-buffer-pool-size=64M",
                    "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
                    "--plugin-load-add=auth_ed25519", f"--ssl-cert={cert}", f"--ssl-key={key}",
                    "--max-allowed-packet=64M", "--local-infile=1",
                    "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
                    "--performance-schema=ON", "--performance-schema-consumer-events-statements-current=ON",
                    "--performance-schema-consumer-events-statements-history=ON"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServiceError(f"mariadbd exited; see {self.log}:\n{_tail(self.log)}")
            ping = subprocess.run(["mariadb-admin", "--no-defaults", "-S", str(self.socket), "-uroot", "ping"],
                                  capture_output=True)
            if ping.returncode == 0:
                return self
            time.sleep(0.1)
        raise ServiceError(f"mariadbd not ready in 60s; see {self.log}:\n{_tail(self.log)}")

    def sql(self, script: str, database: str = "") -> str:
        """Run SQL as root over the unix socket; returns the batch output."""
        argv = ["mariadb", "--no-defaults", "-S", str(self.socket), "-uroot", "-N", "-B",
                "--default-character-set=utf8mb4"]
        if database:
            argv.append(database)
        res = subprocess.run(argv, input=script.encode(), capture_output=True)
        if res.returncode != 0:
            raise ServiceError(f"SQL failed: {res.stderr.decode(errors='replace').strip()}")
        return res.stdout.decode()


class SSHD(Service):
    """A private OpenSSH ``sshd`` with its own host keys and one OS test account."""

    TAG = "bastion test account"

    def __init__(self, workdir: Path, user: str, password: str, port: int = 0) -> None:
        super().__init__("sshd", workdir, port or free_port())
        self.user, self.password = user, password
        self.home = workdir / "home" / user
        self.client_key = workdir / "client" / "id_ed25519"
        self.authorized = workdir / "authorized_keys"
        self.host_key_pub = workdir / "keys" / "ssh_host_ed25519_key.pub"
        self.trusted_user_ca: str | None = None
        """A ``TrustedUserCAKeys`` line (the bastion's ``bastion ssh-ca export``), if any."""
        self.authorize_client_key = True
        """Put :attr:`client_key` in the user's authorized_keys (False: certificates only)."""
        self.host_certificates: list[Path] = []
        """``HostCertificate`` files sshd presents (see :meth:`certify_host_key`)."""
        self.host_ca_public: str | None = None
        """The public key of the host CA that certified the host key, if one did."""

    def start(self) -> SSHD:
        sshd = need("sshd", "openssh-server")
        for sub in ("keys", "client", "authorized_keys", "home"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o711)
        os.chmod(self.workdir / "home", 0o755)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self._make_host_keys()
        self._ensure_user()
        if not self.client_key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bastion-upstream",
                            "-f", str(self.client_key)], check=True)
        if self.authorize_client_key:
            shutil.copy(f"{self.client_key}.pub", self.authorized / self.user)
        ca_lines = []
        if self.trusted_user_ca:
            (self.workdir / "user_ca.pub").write_text(self.trusted_user_ca.strip() + "\n")
            ca_lines = [f"TrustedUserCAKeys {self.workdir / 'user_ca.pub'}"]
        ca_lines += [f"HostCertificate {path}" for path in self.host_certificates]
        config = self.workdir / "sshd_config"
        config.write_text("\n".join([*ca_lines,
            f"Port {self.port}", "ListenAddress 127.0.0.1",
            f"HostKey {self.workdir / 'keys' / 'ssh_host_ed25519_key'}",
            f"HostKey {self.workdir / 'keys' / 'ssh_host_rsa_key'}",
            f"PidFile {self.workdir / 'sshd.pid'}", f"AuthorizedKeysFile {self.authorized}/%u",
            "StrictModes no", "UsePAM no", "PasswordAuthentication yes", "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes", "PermitRootLogin no", f"AllowUsers {self.user}",
            "AllowTcpForwarding yes", "UseDNS no", "PrintMotd no", "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp", "MaxSessions 200", "MaxStartups 200:30:400", ""]))
        subprocess.run([sshd, "-t", "-f", str(config)], check=True)
        self.spawn([sshd, "-D", "-e", "-f", str(config)])
        wait_port(self.port, self.proc, 15, "sshd", self.log)
        return self

    def _ensure_user(self) -> None:
        exists = subprocess.run(["id", self.user], capture_output=True).returncode == 0
        if not exists:
            subprocess.run(["useradd", "-c", self.TAG, "-d", str(self.home), "-s", "/bin/bash", self.user],
                           check=True)
        else:
            subprocess.run(["usermod", "-d", str(self.home), self.user], check=True, capture_output=True)
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.home, self.user, self.user)
        subprocess.run(["chpasswd"], input=f"{self.user}:{self.password}".encode(), check=True)

    def _make_host_keys(self) -> None:
        (self.workdir / "keys").mkdir(parents=True, exist_ok=True)
        for kind in ("ed25519", "rsa"):
            path = self.host_key(kind)
            if not path.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)

    def host_key(self, kind: str = "ed25519") -> Path:
        """The private host key file of type ``kind`` (its ``.pub`` is what a host CA signs)."""
        return self.workdir / "keys" / f"ssh_host_{kind}_key"

    def certify_host_key(self, ca: Path, validity: str = "-5m:+52w", principal: str = "127.0.0.1") -> Path:
        """Have the host CA whose private key is ``ca`` certify the ed25519 host key
        (``ssh-keygen -s ca -h``); sshd presents the certificate from its next start."""
        self._make_host_keys()
        pub = Path(f"{self.host_key('ed25519')}.pub")
        cert = pub.with_name(pub.name.replace(".pub", "-cert.pub"))
        cert.unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-s", str(ca), "-h", "-I", f"sshd-{self.port}", "-n", principal,
                        "-V", validity, str(pub)], check=True, capture_output=True)
        self.host_certificates = [cert]
        self.host_ca_public = " ".join(Path(f"{ca}.pub").read_text().split()[:2])
        return cert

    def cert_authority_line(self) -> str:
        """The known_hosts line trusting :attr:`host_ca_public` for this sshd."""
        if self.host_ca_public is None:
            raise ValueError("no host CA certified this sshd's host key")
        return f"@cert-authority [127.0.0.1]:{self.port} {self.host_ca_public}"

    def known_hosts_line(self) -> str:
        key = " ".join(self.host_key_pub.read_text().split()[:2])
        return f"[127.0.0.1]:{self.port} {key}"

    def remove_user(self) -> None:
        info = subprocess.run(["getent", "passwd", self.user], capture_output=True, text=True).stdout
        if info and info.split(":")[4] == self.TAG:
            subprocess.run(["userdel", self.user], capture_output=True)
