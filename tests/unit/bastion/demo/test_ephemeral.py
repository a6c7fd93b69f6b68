"""The demo without standing credentials: a valid configuration, developers on session users."""

from __future__ import annotations

from pathlib import Path

import yaml

from bastion.demo.ephemeral import without_standing_credentials
from bastion.demo.services import MariaDB
from bastion.demo.setup import demo_config, write_config
from bastion.runtime.bootstrap import load_checked


def test_demo_config_without_standing_credentials_is_valid(tmp_path: Path) -> None:
    db = MariaDB(tmp_path / "db", port=3306)
    config = demo_config(tmp_path, db=db, sshd=None, idp_metadata_url=None, ports={"web": 1, "mysql": 2},
                         protocols={"mysql"}, sp_base_url="http://127.0.0.1")
    without_standing_credentials(config)
    settings, _ = load_checked(str(write_config(tmp_path / "bastion.yaml", config)))
    shop = settings.config.target("shop-db")
    assert shop is not None and set(shop.options["ephemeral"]) == {"developer"}
    rules = {r["id"]: r for r in yaml.safe_load((tmp_path / "policies" / "access.yaml").read_text())["access"]}
    assert rules["dev-session-user"]["groups"] == ["developers"] and rules["dev-session-user"]["account"] == "developer"
    assert "developers" not in rules["dev-readonly"]["groups"]
