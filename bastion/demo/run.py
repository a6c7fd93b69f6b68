"""``bastion demo``: real MariaDB, sshd and SAML IdP plus the bastion, ready to use."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bastion.demo.ephemeral import PROVISION_PASSWORD, provision, without_standing_credentials
from bastion.demo.idp import DEMO_USERS, SimpleSAMLphp
from bastion.demo.services import SSHD, MariaDB, Service
from bastion.demo.setup import UPSTREAM_ACCOUNTS, demo_config, seed_mariadb, write_config
from bastion.state.ssh_ca import UserCA

DEMO_PORTS = {"web": 8080, "mysql": 3307, "ssh": 2222}
SSH_USER, SSH_PASSWORD = "sshdemo", "sshdemo-pw"


def start_stack(workdir: Path, ports: dict[str, int], audit_index: dict[str, Any] | None = None,
                ) -> tuple[list[Service], Path, dict[str, Any]]:
    """Start the services, write the config and the vault entries; return what to stop.
    ``audit_index`` replaces the config's ``audit.index`` (default: the sqlite index)."""
    from bastion.runtime.bootstrap import known_protocols

    services: list[Service] = []
    protocols = set(known_protocols())
    db = MariaDB(workdir / "mariadb").start()
    services.append(db)
    seed_mariadb(db)
    provision(db)
    sshd = SSHD(workdir / "sshd", SSH_USER, SSH_PASSWORD)
    sshd.trusted_user_ca = UserCA.open(workdir / "var").public_line()  # demo-host trusts the bastion's CA
    sshd.certify_host_key(_host_ca(workdir))  # and the bastion trusts demo-host through a host CA
    sshd.start()
    services.append(sshd)
    base = f"http://127.0.0.1:{ports['web']}"
    idp = SimpleSAMLphp(workdir / "idp", f"{base}/saml/metadata", f"{base}/saml/acs", f"{base}/saml/sls").start()
    services.append(idp)
    config = demo_config(workdir, db=db, sshd=sshd, idp_metadata_url=idp.metadata_url, ports=ports,
                         protocols=protocols, sp_base_url=base)
    without_standing_credentials(config)
    if audit_index:
        config["audit"] = {**config["audit"], "index": audit_index}
    path = write_config(workdir / "bastion.yaml", config)
    _store_credentials(path, sshd)
    facts = {"workdir": str(workdir), "config": str(path), "ports": ports,
             "targets": [t["name"] for t in config["targets"]],
             "mariadb": {"port": db.port, "socket": str(db.socket)},
             "sshd": {"port": sshd.port, "user": sshd.user},
             "audit_index": (audit_index or {}).get("backend", "sqlite"),
             "idp": {"metadata_url": idp.metadata_url, "base": idp.base},
             "users": [{"username": u.username, "password": u.password, "groups": list(u.groups)}
                       for u in DEMO_USERS]}
    return services, path, facts


def _host_ca(workdir: Path) -> Path:
    """The demo's host CA key (what an organisation keeps offline to certify its hosts)."""
    path = workdir / "host_ca"
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "demo-host-ca", "-f", str(path)],
                       check=True)
    return path


def _store_credentials(config_path: Path, sshd: SSHD) -> None:
    from bastion.runtime.bootstrap import load_checked, open_store

    settings, _ = load_checked(str(config_path))
    store, _, vault = open_store(settings)
    for account, (_, password, _) in UPSTREAM_ACCOUNTS.items():
        vault.set("shop-db", account, "password", password.encode())
    vault.set("shop-db", "provisioner", "password", PROVISION_PASSWORD.encode())
    if settings.config.target("demo-host") is not None:
        vault.set("demo-host", sshd.user, "ssh-key", sshd.client_key.read_bytes())
    store.dispose()


def run_demo(workdir: str | None, search: str = "sqlite") -> int:
    from bastion.runtime import logs
    from bastion.runtime.bootstrap import build_context, load_checked
    from bastion.runtime.server import Bastion
    from bastion.web import create_app

    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="bastion-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o711)  # sshd reads authorized_keys as the demo OS user, who must traverse the workdir
    logs.setup("info")
    services: list[Service] = []
    bastion = None
    engine = None
    try:
        index = None
        if search == "opensearch":
            engine = start_opensearch(work / "opensearch")
            index = {"backend": "opensearch", "url": engine.url}
        services, path, facts = start_stack(work, DEMO_PORTS, index)
        settings, protocols = load_checked(str(path))
        ctx = build_context(settings)
        bastion = Bastion(ctx, protocols, create_app(ctx))
        facts["ports"] = bastion.start()
        (work / "demo.json").write_text(json.dumps(facts, indent=2))
        print(_banner(facts), flush=True)
        bastion.serve_forever(grace=5)
        bastion = None
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # noqa: BLE001 - report and clean up whatever failed
        logging.getLogger("bastion.demo").exception("demo failed")
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if bastion is not None:
            bastion.stop(grace=1)
        for service in reversed(services):
            service.stop()
        if engine is not None:
            engine.stop()
    return 0


def start_opensearch(workdir: Path) -> Any:
    """``bastion demo --search opensearch``: the embedded OpenSearch 2.19 node the tests use
    (``tests/search/launcher``, built by Maven on first use; needs Java 17 and Maven, and a
    clone of the repository)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.search.opensearch import OpenSearchNode, build

    workdir.mkdir(parents=True, exist_ok=True)
    node = OpenSearchNode(workdir, build())
    node.start()
    logging.getLogger("bastion.demo").info("OpenSearch node ready at %s", node.url)
    return node


def _banner(facts: dict[str, Any]) -> str:
    ports, cfg = facts["ports"], facts["config"]
    lines = [
        "", "bastion demo is ready", f"  workdir : {facts['workdir']}  (facts in demo.json)",
        f"  portal  : http://127.0.0.1:{ports.get('web')}/  (users: "
        + ", ".join(f"{u['username']}/{u['password']}" for u in facts["users"]) + ")",
        f"  audit   : http://127.0.0.1:{ports.get('web')}/audit/  (carol or alice; index: "
        + f"{facts.get('audit_index', 'sqlite')})",
    ]
    if "mysql" in ports:
        lines += [
            "  token   : bastion tokens issue --config " + cfg + " --user alice --groups dba",
            f"  mysql   : mariadb -h 127.0.0.1 -P {ports['mysql']} --ssl -u shop-db -p<token> shop",
            f"  verify  : add --ssl-ca={facts['workdir']}/var/tls/ca.crt --ssl-verify-server-cert",
        ]
    if "ssh" in ports:
        lines.append(f"  ssh     : ssh -p {ports['ssh']} demo-host@127.0.0.1")
    lines.append("  stop    : Ctrl-C")
    return "\n".join(lines)

