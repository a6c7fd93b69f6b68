"""audit.* configuration keys."""

from __future__ import annotations

import pytest

from bastion.config.audit import AuditConfig, AuditIndexConfig
from bastion.config.schema import Issues, build


def test_defaults():
    cfg = AuditConfig()
    assert cfg.index.backend == "sqlite" and cfg.fsync and cfg.retention_days == 0


def test_index_section_is_typed():
    issues = Issues("bastion.yaml")
    cfg = build(AuditConfig, {"fsync": False, "index": {"backend": "opensearch", "url": "http://x:9200",
                                                        "index_prefx": "a"}}, issues, "audit")
    assert any("audit.index.index_prefx: unknown key" in e for e in issues.errors), issues.errors
    issues = Issues("bastion.yaml")
    cfg = build(AuditConfig, {"index": {"backend": "opensearch", "url": "http://x:9200"}}, issues, "audit")
    assert cfg is not None and cfg.index.index_prefix == "bastion-audit"


@pytest.mark.parametrize("kwargs", [{"backend": "opensearch"}, {"index_prefix": "Upper"}, {"batch_size": 0}])
def test_invalid_index_settings(kwargs):
    with pytest.raises(ValueError):
        AuditIndexConfig(**kwargs)
