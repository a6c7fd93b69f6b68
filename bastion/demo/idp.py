"""SimpleSAMLphp (Debian ``simplesamlphp``) as a throwaway SAML IdP under ``php -S``.

Nothing in /etc is touched: ``SIMPLESAMLPHP_CONFIG_DIR`` points at a private config
directory and the docroot holds a ``simplesaml`` symlink to the package's www dir.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bastion.demo.services import Service, free_port, need, wait_port

SSP_WWW = Path("/usr/share/simplesamlphp/www")


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    email: str
    display_name: str
    groups: tuple[str, ...]


DEMO_USERS = (
    DemoUser("alice", "alicepw", "alice@example.org", "Alice DBA", ("dba", "admins")),
    DemoUser("bob", "bobpw", "bob@example.org", "Bob Developer", ("developers",)),
    DemoUser("carol", "carolpw", "carol@example.org", "Carol Approver", ("approvers", "auditors")),
    DemoUser("dave", "davepw", "dave@example.org", "Dave PCI Auditor", ("developers", "pci-auditors")),
)


def _php_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SimpleSAMLphp(Service):
    def __init__(self, workdir: Path, sp_entity_id: str, acs_url: str, sls_url: str,
                 users: tuple[DemoUser, ...] = DEMO_USERS, port: int = 0) -> None:
        super().__init__("idp", workdir, port or free_port())
        self.sp_entity_id, self.acs_url, self.sls_url = sp_entity_id, acs_url, sls_url
        self.users = users
        self.base = f"http://127.0.0.1:{self.port}/simplesaml"
        self.metadata_url = f"{self.base}/saml2/idp/metadata.php"
        self.cert = workdir / "cert" / "idp.crt"

    def start(self) -> SimpleSAMLphp:
        php = need("php", "php-cli")
        if not SSP_WWW.exists():
            raise RuntimeError("SimpleSAMLphp not found: install the Debian package simplesamlphp")
        self._write_config()
        self.spawn([php, "-d", f"session.save_path={self.workdir / 'sessions'}", "-S",
                    f"127.0.0.1:{self.port}", "-t", str(self.workdir / "docroot")],
                   {"SIMPLESAMLPHP_CONFIG_DIR": str(self.workdir / "config"), "PHP_CLI_SERVER_WORKERS": "4"})
        wait_port(self.port, self.proc, 20, "SimpleSAMLphp (php -S)", self.log)
        return self

    def _write_config(self) -> None:
        w = self.workdir
        for sub in ("config", "metadata", "cert", "data", "tmp", "log", "sessions", "docroot"):
            (w / sub).mkdir(parents=True, exist_ok=True)
        link = w / "docroot" / "simplesaml"
        if not link.exists():
            link.symlink_to(SSP_WWW)
        if not self.cert.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                            "-subj", "/CN=demo-idp", "-keyout", str(w / "cert" / "idp.key"),
                            "-out", str(self.cert)], check=True, capture_output=True)
        (w / "config" / "config.php").write_text(f"""<?php
$config = [
    'baseurlpath' => '{self.base}/',
    'certdir' => '{w}/cert/', 'loggingdir' => '{w}/log/', 'datadir' => '{w}/data/',
    'tempdir' => '{w}/tmp', 'metadatadir' => '{w}/metadata/',
    'metadata.sources' => [['type' => 'flatfile']],
    'technicalcontact_name' => 'Demo', 'technicalcontact_email' => 'demo@example.org',
    'secretsalt' => '{secrets.token_hex(16)}',
    'auth.adminpassword' => '{secrets.token_hex(16)}', 'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'timezone' => 'UTC', 'showerrors' => true, 'errorreporting' => false,
    'logging.level' => SimpleSAML\\Logger::NOTICE, 'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'enable.saml20-idp' => true,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'session.cookie.secure' => false, 'session.cookie.samesite' => null,
    'session.phpsession.savepath' => '{w}/sessions', 'store.type' => 'phpsession',
    'language.available' => ['en'],
];
""")
        users = ",\n".join(
            f"        {_php_str(u.username + ':' + u.password)} => ['uid' => [{_php_str(u.username)}], "
            f"'mail' => [{_php_str(u.email)}], 'displayName' => [{_php_str(u.display_name)}], "
            f"'eduPersonAffiliation' => [{', '.join(_php_str(g) for g in u.groups)}]]"
            for u in self.users)
        (w / "config" / "authsources.php").write_text(
            "<?php\n$config = [\n    'admin' => ['core:AdminPassword'],\n"
            f"    'example-userpass' => [\n        'exampleauth:UserPass',\n{users}\n    ],\n];\n")
        (w / "metadata" / "saml20-idp-hosted.php").write_text("""<?php
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__', 'privatekey' => 'idp.key', 'certificate' => 'idp.crt',
    'auth' => 'example-userpass',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
    'SingleLogoutServiceBinding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
];
""")
        (w / "metadata" / "saml20-sp-remote.php").write_text(f"""<?php
$metadata[{_php_str(self.sp_entity_id)}] = [
    'AssertionConsumerService' => {_php_str(self.acs_url)},
    'SingleLogoutService' => {_php_str(self.sls_url)},
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
    'saml20.sign.assertion' => true, 'saml20.sign.response' => true,
];
""")
