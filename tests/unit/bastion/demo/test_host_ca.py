"""The demo's host is trusted through a host CA: the certificate the demo has sshd present
is one the bastion's checker accepts for the known_hosts line the demo writes."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from bastion.demo.run import _host_ca
from bastion.demo.services import SSHD, MariaDB
from bastion.demo.setup import demo_config
from plugins.ssh.host_certs import check_certificate
from plugins.ssh.known_hosts import parse_markers


def test_the_demo_host_is_trusted_through_its_host_ca(tmp_path: Path) -> None:
    sshd = SSHD(tmp_path / "sshd", "sshdemo", "pw", port=2201)
    ca = _host_ca(tmp_path)
    cert = sshd.certify_host_key(ca)
    config = demo_config(tmp_path, db=MariaDB(tmp_path / "db", port=3306), sshd=sshd, idp_metadata_url=None,
                         ports={"web": 1, "mysql": 2, "ssh": 3}, protocols={"mysql", "ssh"},
                         sp_base_url="http://127.0.0.1")
    host = next(t for t in config["targets"] if t["name"] == "demo-host")
    known = Path(host["options"]["known_hosts"]).read_text()
    ca_key = " ".join(Path(f"{ca}.pub").read_text().split()[:2])
    assert known == f"@cert-authority [127.0.0.1]:2201 {ca_key}\n"  # no pinned key
    markers = parse_markers(known, "[127.0.0.1]:2201")
    blob = base64.b64decode(cert.read_text().split()[1])
    checked = check_certificate(blob, "ssh-ed25519-cert-v01@openssh.com", markers, host["host"], time.time())
    assert checked.key_blob == base64.b64decode(Path(f"{sshd.host_key()}.pub").read_text().split()[1])
    assert _host_ca(tmp_path) == ca and ca.stat().st_mode & 0o777 == 0o600  # made once, private
