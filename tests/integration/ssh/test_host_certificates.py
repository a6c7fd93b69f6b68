"""Host trust through a host CA: a real OpenSSH sshd presents a ``HostCertificate`` made
by ``ssh-keygen -s`` and the bastion's known_hosts for the target has only an
``@cert-authority`` line — no pinned key. A session works; another CA, a certificate for
another name, a revoked key or an expired certificate refuse it before any login."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.demo.services import SSHD, MariaDB, ServiceError, free_port
from bastion.demo.setup import write_config
from bastion.runtime.bootstrap import load_checked, open_store
from tests.integration.conftest import SSH_USER, service_failed, start_bastion, wait_for
from tests.integration.ssh.conftest import SSHEnv, keygen, private_sshd, provision, serving, ssh_config

HC_USER = f"{SSH_USER}_hc"[:32]
PRINCIPAL = "127.0.0.1"


def sign_host_key(server: SSHD, ca: Path, validity: str) -> None:
    """Certify the sshd's ed25519 host key with ``ca`` (the real ssh-keygen) and restart
    sshd to present it (sshd reads host certificates at start)."""
    server.stop()
    server.certify_host_key(ca, validity, principal=PRINCIPAL)
    server.start()


def _targets(server: SSHD, pki: Path, workdir: Path) -> list[dict[str, Any]]:
    ca, other = (" ".join((pki / f"{n}.pub").read_text().split()[:2]) for n in ("host_ca", "other_ca"))
    assert server.host_ca_public == ca
    name = f"[{PRINCIPAL}]:{server.port}"
    host_pub = " ".join(Path(f"{server.host_key('ed25519')}.pub").read_text().split()[:2])
    files = {
        "hc-ca": f"# trusted through the host CA only\n{server.cert_authority_line()} host-ca\n",
        "hc-pattern": f"@cert-authority *.example.org,[127.0.0.*]:* {ca}\n",
        "hc-other-ca": f"@cert-authority {name} {other} other-ca\n",
        "hc-wrong-name": f"@cert-authority [localhost]:{server.port} {ca}\n",
        "hc-revoked": f"@cert-authority {name} {ca}\n@revoked * {host_pub} retired\n",
        "hc-pinned": server.known_hosts_line() + "\n",
    }
    targets = []
    for target, text in files.items():
        (workdir / f"known_{target}").write_text(text)
        host = "localhost" if target == "hc-wrong-name" else PRINCIPAL
        targets.append({"name": target, "protocol": "ssh", "host": host, "port": server.port, "tags": ["test"],
                        "accounts": ["bastiontest"], "options": {"known_hosts": str(workdir / f"known_{target}"),
                                                                 "users": {"bastiontest": server.user},
                                                                 "authorized_keys": f"{server.authorized}/%u"}})
    return targets


@pytest.fixture(scope="module")
def hc_env(mariadb: MariaDB) -> Iterator[SSHEnv]:
    with private_sshd(HC_USER, "bastion-hostca-") as (server, workdir):
        pki = workdir / "pki"
        pki.mkdir()
        for name in ("host_ca", "other_ca"):
            keygen(pki / name)
        b = None
        try:
            server.certify_host_key(pki / "host_ca", "-5m:+1h", principal=PRINCIPAL)
            server.start()
            shutil.chown(server.authorized / HC_USER, HC_USER)  # the account maintains its own file (rotation)
            config = ssh_config(workdir, server, mariadb, free_port())
            config["targets"] = _targets(server, pki, workdir)
            names = [t["name"] for t in config["targets"]]
            Path(config["policies"]["files"][0]).write_text(yaml.safe_dump({"access": [
                {"id": "ops-ssh", "groups": ["ops"], "targets": names, "account": "bastiontest"}]}))
            path = write_config(workdir / "bastion.yaml", config)
            keys = provision(path, server, workdir)
            settings, _ = load_checked(str(path))
            store, _, vault = open_store(settings)
            for name in names:
                vault.set(name, "bastiontest", "ssh-key", server.client_key.read_bytes())
            store.dispose()
            b = start_bastion(workdir, config)
        except (ServiceError, OSError, subprocess.CalledProcessError) as exc:
            service_failed("sshd", exc)
        assert b is not None
        yield from serving(b, server, keys, pki=pki)


def _connected(env: SSHEnv, target: str) -> dict[str, Any]:
    return wait_for(lambda: [e for e in env.journal("upstream") if e["data"]["target"] == target])[-1]["data"]


@pytest.mark.parametrize("target", ["hc-ca", "hc-pattern", "hc-pinned"])
def test_a_session_works_through_the_host_ca_or_a_pinned_key(hc_env: SSHEnv, target: str) -> None:
    res = hc_env.ssh(target, "echo host-ca-$((40+2)); whoami")
    assert res.returncode == 0, (res.stderr, hc_env.bastion.log_text()[-3000:])
    assert res.stdout.decode().split() == ["host-ca-42", HC_USER]
    event = _connected(hc_env, target)
    assert event["result"] == "connected"
    if target == "hc-pinned":
        assert "host_certificate" not in event  # pinned keys: no certificate algorithm is even offered
    else:
        assert event["host_certificate"].startswith(f"'sshd-{hc_env.sshd.port}' serial 0 signed by SHA256:"), event


REFUSALS = [
    ("hc-other-ca", "which is not a trusted @cert-authority"),
    ("hc-wrong-name", "not valid for 'localhost' (principals: 127.0.0.1)"),
    ("hc-revoked", "the certified key or its CA is @revoked"),
]


@pytest.mark.parametrize(("target", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_an_untrusted_host_certificate_is_refused_before_any_login(hc_env: SSHEnv, target: str, reason: str) -> None:
    before = hc_env.accepted_upstream()
    res = hc_env.ssh(target, "touch host-ca-refused")
    assert res.returncode == 255
    assert b"host certificate of target " + target.encode() + b" was refused" in res.stderr, res.stderr
    assert reason.encode() in res.stderr, res.stderr
    assert hc_env.accepted_upstream() == before
    assert not (hc_env.sshd.home / "host-ca-refused").exists()
    event = _connected(hc_env, target)
    assert event["result"] == "refused" and reason in event["reason"], event


def test_an_expired_host_certificate_is_refused(hc_env: SSHEnv) -> None:
    pki = hc_env.extra["pki"]
    sign_host_key(hc_env.sshd, pki / "host_ca", "20200101:20200102")
    try:
        before = hc_env.accepted_upstream()
        res = hc_env.ssh("hc-ca", "true")
        assert res.returncode == 255 and b"the certificate is not valid now" in res.stderr, res.stderr
        assert hc_env.accepted_upstream() == before
        assert hc_env.ssh("hc-pinned", "true").returncode == 0  # the pinned key still proves the same host
    finally:
        sign_host_key(hc_env.sshd, pki / "host_ca", "-5m:+1h")
    assert hc_env.ssh("hc-ca", "true").returncode == 0


def test_a_target_without_a_host_certificate_is_refused_when_only_a_ca_is_trusted(hc_env: SSHEnv) -> None:
    hc_env.sshd.stop()
    hc_env.sshd.host_certificates = []
    hc_env.sshd.start()
    try:
        res = hc_env.ssh("hc-ca", "true")
        assert res.returncode == 255 and b"presented no host certificate" in res.stderr, res.stderr
    finally:
        sign_host_key(hc_env.sshd, hc_env.extra["pki"] / "host_ca", "-5m:+1h")


def _vault(env: SSHEnv, target: str, value: bytes | None = None) -> bytes:
    settings, _ = load_checked(str(env.bastion.config))
    store, _, vault = open_store(settings)
    try:
        if value is not None:
            vault.set(target, "bastiontest", "ssh-key", value)
        return vault.get(target, "bastiontest").value
    finally:
        store.dispose()


def test_key_rotation_checks_the_host_certificate_too(hc_env: SSHEnv) -> None:
    before = _vault(hc_env, "hc-other-ca")
    refused = hc_env.bastion.cli("credentials", "rotate", "hc-other-ca/bastiontest", "--wait", "60")
    assert refused.returncode == 1 and b"host certificate of target hc-other-ca was refused" in refused.stderr, \
        refused.stderr
    assert _vault(hc_env, "hc-other-ca") == before
    res = hc_env.bastion.cli("credentials", "rotate", "hc-ca/bastiontest", "--wait", "60")
    assert res.returncode == 0, res.stderr
    new = _vault(hc_env, "hc-ca")
    assert new != before
    for target in ("hc-pattern", "hc-pinned"):  # the old key is gone from authorized_keys: share the new one
        _vault(hc_env, target, new)
    assert hc_env.ssh("hc-ca", "true").returncode == 0
    assert hc_env.ssh("hc-pinned", "true").returncode == 0
