from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bastion.config.load import load_settings
from bastion.config.schema import ConfigError

ROOT = Path(__file__).resolve().parents[4]

GOOD = """
state_dir: ./var
listeners:
  web: {port: 0}
  mysql: {port: 0}
targets:
  - name: orders-db
    protocol: mysql
    host: 127.0.0.1
    port: 3306
    tags: [prod]
    accounts: [readonly]
policies:
  files: [access.yaml]
"""

ACCESS = """
access:
  - id: devs
    groups: [developers]
    targets: [orders-db]
    account: readonly
"""


def write(tmp_path: Path, config: str = GOOD, access: str = ACCESS) -> Path:
    (tmp_path / "access.yaml").write_text(textwrap.dedent(access))
    path = tmp_path / "bastion.yaml"
    path.write_text(textwrap.dedent(config))
    return path


def errors_for(tmp_path: Path, config: str = GOOD, access: str = ACCESS) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, config, access), known_protocols={"mysql", "ssh"})
    return info.value.errors


def test_good_config_loads_and_resolves_paths(tmp_path):
    settings = load_settings(write(tmp_path), known_protocols={"mysql"})
    assert settings.config.state_dir == str(tmp_path / "var")
    assert settings.config.state.url == f"sqlite:///{tmp_path}/var/state.db"
    assert settings.policies.access[0].id == "devs"


@pytest.mark.parametrize(
    ("config", "access", "expected"),
    [
        (GOOD.replace("tags: [prod]", "tagz: [prod]"), ACCESS, "targets[0].tagz: unknown key"),
        (GOOD.replace("port: 3306", "port: three"), ACCESS, "targets[0].port: expected an integer"),
        (GOOD.replace("port: 3306", "port: 70000"), ACCESS, "port 70000 is out of range"),
        (GOOD.replace("accounts: [readonly]", "accounts: readonly"), ACCESS, "targets[0].accounts: expected a list"),
        (GOOD.replace("protocol: mysql", "protocol: postgres"), ACCESS, "unknown protocol 'postgres'"),
        (GOOD, ACCESS.replace("[orders-db]", "[nope-db]"), "access[0].targets[0]: unknown target 'nope-db'"),
        (GOOD, ACCESS.replace("account: readonly", "account: root"),
         "access[0].account: target 'orders-db' has no account"),
        (GOOD, ACCESS.replace("groups: [developers]", "groups: []"), "needs at least one group"),
        (GOOD + "  bogus: 1\n", ACCESS, "policies.bogus: unknown key"),
        ("listeners: [1, 2\n", ACCESS, "invalid YAML: line"),
        (GOOD.replace("files: [access.yaml]", "files: [missing.yaml]"), ACCESS, "missing.yaml"),
        (GOOD, "guardrails:\n  - {id: x, action: explode}\n", "guardrails[0].action: must be one of"),
        (GOOD, "guardrails:\n  - {id: x, action: deny, match: {regex: '('}}\n", "invalid regular expression"),
    ],
    ids=["wrong-key", "bad-type", "out-of-range", "scalar-for-list", "unknown-protocol", "unknown-target",
         "unknown-account", "empty-groups", "nested-wrong-key", "unreadable-yaml", "missing-policy-file",
         "bad-literal", "bad-regex"],
)
def test_precise_errors(tmp_path, config, access, expected):
    errors = errors_for(tmp_path, config, access)
    assert any(expected in e for e in errors), errors
    assert all(e.split(":")[0].endswith((".yaml", ".yml")) for e in errors), errors


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file"):
        load_settings(tmp_path / "nope.yaml")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bastion.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_check_config_cli(tmp_path):
    ok = run_cli("check-config", "--config", str(write(tmp_path)))
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    bad = run_cli("check-config", "--config", str(write(tmp_path, GOOD.replace("host:", "hostname:"))))
    assert bad.returncode != 0
    assert "targets[0].hostname: unknown key" in bad.stderr
    assert "targets[0].host: required key is missing" in bad.stderr


def test_shipped_examples_validate():
    res = run_cli("check-config", "--config", str(ROOT / "policies" / "examples" / "bastion.yaml"))
    assert res.returncode == 0, res.stderr
