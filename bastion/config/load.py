"""Load and validate the configuration file and the policy files it names.

Validation happens once, at start-up (``bastion serve``) or on demand
(``bastion check-config``). Every error names the file, the key path and the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from bastion.config.model import BastionConfig
from bastion.config.schema import ConfigError, Issues, build
from policies.files import PolicySet, load_policy_file


@dataclass(frozen=True)
class Settings:
    """A validated configuration plus the policy rules it loads."""

    config: BastionConfig
    policies: PolicySet
    path: Path
    """The configuration file (paths inside it are relative to its directory)."""

    @property
    def state_dir(self) -> Path:
        return Path(self.config.state_dir)


def read_yaml(path: Path, issues: Issues) -> Any:
    """Parse a YAML file, recording unreadable or malformed files as errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        issues.add("", f"cannot read file: {exc.strerror or exc}")
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        issues.add("", f"invalid YAML: {where}{getattr(exc, 'problem', None) or exc}")
        return None


def load_settings(path: str | os.PathLike[str], known_protocols: set[str] | None = None) -> Settings:
    """Load ``path``; raise :class:`ConfigError` listing every problem found."""
    cfg_path = Path(path).resolve()
    issues = Issues(str(cfg_path))
    data = read_yaml(cfg_path, issues)
    if issues.errors:
        raise ConfigError(issues.errors)
    config = build(BastionConfig, data if data is not None else {}, issues)
    if config is None:
        raise ConfigError(issues.errors)
    config = _resolve_paths(config, cfg_path.parent)
    _check_consistency(config, issues, known_protocols)
    policies = PolicySet()
    for i, name in enumerate(config.policies.files):
        file_issues = Issues(name)
        loaded = load_policy_file(Path(name), file_issues, config)
        if loaded is not None:
            policies = policies.merge(loaded)
        issues.errors.extend(file_issues.errors)
        if not Path(name).exists():
            issues.add(f"policies.files[{i}]", f"file not found: {name}")
    if issues.errors:
        raise ConfigError(list(dict.fromkeys(issues.errors)))
    return Settings(config=config, policies=policies, path=cfg_path)


def _resolve_paths(config: BastionConfig, base: Path) -> BastionConfig:
    state_dir = str((base / config.state_dir).resolve())

    def fix(value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace("{state_dir}", state_dir)
        return str((base / value).resolve()) if not value.startswith(("/", "sqlite:", "mysql")) else value

    state_url = config.state.url.replace("{state_dir}", state_dir)
    saml = config.saml
    if saml is not None and saml.idp_metadata_file:
        saml = replace(saml, idp_metadata_file=fix(saml.idp_metadata_file))
    return replace(
        config,
        saml=saml,
        state_dir=state_dir,
        tls=replace(config.tls, cert_file=fix(config.tls.cert_file), key_file=fix(config.tls.key_file)),
        policies=replace(config.policies, files=[fix(f) or "" for f in config.policies.files]),
        state=replace(config.state, url=state_url),
        vault=replace(config.vault, key_file=fix(config.vault.key_file)),
        audit=replace(config.audit, journal_dir=fix(config.audit.journal_dir) or ""),
        secret_key_file=fix(config.secret_key_file) or "",
    )


def _check_consistency(config: BastionConfig, issues: Issues, known_protocols: set[str] | None) -> None:
    seen: set[str] = set()
    for i, target in enumerate(config.targets):
        if target.name in seen:
            issues.add(f"targets[{i}].name", f"duplicate target name {target.name!r}")
        seen.add(target.name)
        if known_protocols is not None and target.protocol not in known_protocols:
            issues.add(f"targets[{i}].protocol",
                       f"unknown protocol {target.protocol!r} (installed: {', '.join(sorted(known_protocols))})")
    for name in config.listeners:
        if name != "web" and known_protocols is not None and name not in known_protocols:
            issues.add(f"listeners.{name}", f"no protocol plugin named {name!r} is installed")
    ports = [(n, lc.bind, lc.port) for n, lc in config.listeners.items() if lc.enabled and lc.port]
    for n, bind, port in ports:
        clash = [m for m, b2, p2 in ports if m != n and p2 == port and b2 == bind]
        if clash:
            issues.add(f"listeners.{n}.port", f"port {port} is also used by listener {clash[0]!r}")
    if config.tls.cert_file and not config.tls.key_file:
        issues.add("tls.key_file", "cert_file is set but key_file is missing")
