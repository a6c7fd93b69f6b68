"""The configuration file's schema, as frozen dataclasses (see docs/configuration.md).

Field annotations are the schema enforced by :mod:`bastion.config.schema`; attribute
docstrings are the reference documentation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ListenerConfig:
    """One listening socket (``web``, or a protocol plugin's name)."""

    port: int
    bind: str = "127.0.0.1"
    enabled: bool = True
    max_connections: int = 500
    handshake_timeout: float = 15.0
    """Seconds a client has to finish TLS and authentication."""
    idle_timeout: float = 8 * 3600.0
    """Seconds without client traffic before the session is closed."""
    options: dict[str, Any] = field(default_factory=dict)
    """Protocol specific listener settings (e.g. ``server_version`` for MySQL)."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range 0-65535")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")


@dataclass(frozen=True)
class TLSConfig:
    """The bastion's own TLS certificate (client-facing MySQL, web portal if enabled)."""

    cert_file: str | None = None
    """PEM certificate chain; when unset a private CA in ``state_dir/tls`` signs one
    (``bastion.runtime.tls``; clients verify with ``state_dir/tls/ca.crt``)."""
    key_file: str | None = None
    hostnames: list[str] = field(default_factory=lambda: ["localhost", "127.0.0.1"])
    """Names in the generated server certificate, besides the listeners' bind addresses."""


@dataclass(frozen=True)
class UpstreamTLSConfig:
    mode: Literal["disabled", "preferred", "required", "verify-full"] = "preferred"
    ca_file: str | None = None
    server_name: str | None = None


@dataclass(frozen=True)
class TargetConfig:
    """A database or host reachable through the bastion."""

    name: str
    protocol: str
    host: str
    port: int
    tags: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    """Upstream accounts the vault holds credentials for (``bastion credentials set``)."""
    tls: UpstreamTLSConfig = field(default_factory=UpstreamTLSConfig)
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or any(c in self.name for c in " /#:@"):
            raise ValueError(f"target name {self.name!r} must be non-empty without spaces or / # : @")
        if not self.accounts:
            raise ValueError(f"target {self.name!r} needs at least one upstream account")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range 1-65535")


SAML_ROLES = ("admin", "approver", "auditor", "user")
"""Bastion roles; everyone signed in has ``user``, the others come from ``saml.roles``."""

SAML_ATTRIBUTE_KEYS = ("user_id", "email", "display_name", "groups")
DEFAULT_SAML_ATTRIBUTES = {"user_id": "uid", "email": "mail", "display_name": "displayName",
                           "groups": "eduPersonAffiliation"}


@dataclass(frozen=True)
class SAMLConfig:
    """SAML 2.0 identity provider settings (the bastion is the Service Provider)."""

    idp_metadata_url: str | None = None
    """IdP metadata fetched over HTTP(S) when the web app starts (retried on the first
    sign-in while the IdP is unreachable; sign-in answers 503 until then)."""
    idp_metadata_file: str | None = None
    """IdP metadata read from a file at start-up (an unreadable file fails start-up)."""
    idp_entity_id: str | None = None
    """Which entity to use when the metadata describes several IdPs."""
    sp_base_url: str = "http://127.0.0.1:8080"
    """Public base URL of the web portal; ACS, metadata and SLS live under ``/saml/``."""
    sp_entity_id: str | None = None
    """Defaults to ``<sp_base_url>/saml/metadata``."""
    attributes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SAML_ATTRIBUTES))
    """Identity field (``user_id``, ``email``, ``display_name``, ``groups``) -> IdP attribute name;
    fields not given keep their default."""
    roles: dict[str, list[str]] = field(default_factory=dict)
    """Bastion role -> IdP groups (roles: admin, approver, auditor, user)."""
    allow_unsolicited: bool = False
    """Accept IdP-initiated responses (no InResponseTo). Off: only answers to our own requests."""
    clock_skew: int = 60
    """Seconds of clock difference tolerated on NotBefore/NotOnOrAfter (at most 300)."""
    want_assertions_signed: bool = True
    want_messages_signed: bool = False
    session_lifetime: int = 8 * 3600
    """Seconds a portal sign-in lasts (shorter if the IdP's SessionNotOnOrAfter says so)."""
    login_timeout: int = 600
    """Seconds a sign-in started at the portal may take at the IdP (AuthnRequest lifetime)."""

    def __post_init__(self) -> None:
        if bool(self.idp_metadata_url) == bool(self.idp_metadata_file):
            raise ValueError("set exactly one of idp_metadata_url and idp_metadata_file")
        if self.idp_metadata_url and not self.idp_metadata_url.startswith(("http://", "https://")):
            raise ValueError(f"idp_metadata_url {self.idp_metadata_url!r} must be an http(s) URL")
        if not self.sp_base_url.startswith(("http://", "https://")) or any(c in self.sp_base_url for c in "?#"):
            raise ValueError(f"sp_base_url {self.sp_base_url!r} must be an http(s) URL without query or fragment")
        unknown = sorted(set(self.attributes) - set(SAML_ATTRIBUTE_KEYS))
        if unknown:
            raise ValueError(f"attributes: unknown field(s) {', '.join(unknown)} "
                             f"(expected some of: {', '.join(SAML_ATTRIBUTE_KEYS)})")
        bad_roles = sorted(set(self.roles) - set(SAML_ROLES))
        if bad_roles:
            raise ValueError(f"roles: unknown role(s) {', '.join(bad_roles)} "
                             f"(expected some of: {', '.join(SAML_ROLES)})")
        if not 0 <= self.clock_skew <= 300:
            raise ValueError("clock_skew must be between 0 and 300 seconds")
        if self.session_lifetime < 60:
            raise ValueError("session_lifetime must be at least 60 seconds")
        if not 30 <= self.login_timeout <= 3600:
            raise ValueError("login_timeout must be between 30 and 3600 seconds")

    @property
    def base_url(self) -> str:
        return self.sp_base_url.rstrip("/")

    @property
    def entity_id(self) -> str:
        return self.sp_entity_id or f"{self.base_url}/saml/metadata"

    @property
    def attribute_names(self) -> dict[str, str]:
        return {**DEFAULT_SAML_ATTRIBUTES, **self.attributes}


@dataclass(frozen=True)
class PolicyConfig:
    files: list[str] = field(default_factory=list)
    """YAML rule files (access, guardrails, masking); relative paths are resolved
    against the config file's directory."""
    stages: list[str] = field(default_factory=lambda: ["access"])
    """Entry-point names of the ``bastion.policies`` stages, in evaluation order."""
    stage_budget: float = 2.0
    """CPU seconds one stage may spend on one event (a 40 MB statement is classified in
    about 0.3 s per quoting mode, and the guardrails try both when the mode is unknown)."""


@dataclass(frozen=True)
class StateConfig:
    url: str = "sqlite:///{state_dir}/state.db"
    """SQLAlchemy URL: SQLite (WAL) by default, ``mysql+pymysql://…`` for several nodes."""


@dataclass(frozen=True)
class VaultConfig:
    key_file: str | None = "{state_dir}/vault.key"
    """32-byte key, base64; created on first use if missing (mode 0600)."""
    key_env: str | None = None
    """Name of an environment variable holding the key; wins over ``key_file``."""


@dataclass(frozen=True)
class TokenConfig:
    default_ttl: int = 3600
    max_ttl: int = 12 * 3600
    require_reason: bool = False
    end_sessions_on_expiry: bool = False
    """End open MySQL and SSH sessions when the token they were opened with expires (a
    revoked token always ends them)."""


@dataclass(frozen=True)
class ThrottleConfig:
    """Failed logins per source address and per user name, across MySQL, SSH and the API."""

    enabled: bool = True
    free_attempts: int = 5
    """Failures within ``window`` before delays start."""
    base_delay: float = 1.0
    """Seconds the first delayed failure blocks; each further failure doubles it."""
    max_delay: float = 300.0
    window: float = 900.0
    """Seconds after the first failure when the count starts again."""

    def __post_init__(self) -> None:
        if self.free_attempts < 0 or self.base_delay <= 0 or self.max_delay < self.base_delay or self.window <= 0:
            raise ValueError("free_attempts >= 0, base_delay > 0, max_delay >= base_delay and window > 0")


@dataclass(frozen=True)
class ApprovalsConfig:
    webhook_url: str | None = None
    """Slack-compatible incoming webhook notified of new, approved and denied requests."""
    webhook_timeout: float = 5.0
    poll_interval: float = 0.25
    """How often a held session checks the state store for a decision."""


@dataclass(frozen=True)
class AuditIndexConfig:
    """The searchable index derived from the journal (see docs/audit.md)."""

    backend: Literal["sqlite", "opensearch", "elasticsearch", "none"] = "sqlite"
    """``sqlite`` (FTS5 in ``database``), ``opensearch``, ``elasticsearch``, or ``none`` (no indexer)."""
    url: str = ""
    """OpenSearch/Elasticsearch URL(s), comma separated (``https://user:pass@host:9200``)."""
    index_prefix: str = "bastion-audit"
    """Daily indices are ``<prefix>-YYYY.MM.DD``; one index template covers ``<prefix>-*``."""
    database: str = "audit.db"
    """The sqlite backend's file; a relative path is relative to ``audit.journal_dir``."""
    verify_certs: bool = True
    ca_file: str | None = None
    timeout: float = 10.0
    """Seconds per request to the search engine."""
    replicas: int = 0
    """``number_of_replicas`` in the index template."""
    batch_size: int = 2000
    """Journal records per step: one bulk request (sqlite: one transaction). Each step has a
    fixed cost (reading the segment list, committing and syncing the index and the position),
    so larger batches cost less CPU per document (bench/indexer.py); a step still takes well
    under a second."""
    poll_interval: float = 0.5
    """Seconds between looks at the journal when the indexer has caught up."""
    max_backoff: float = 30.0
    """Upper bound of the exponential back-off while the engine is unreachable."""
    max_output_bytes: int = 1 << 20
    """Terminal output text indexed per recording (the recording itself keeps everything)."""

    def __post_init__(self) -> None:
        if self.backend in ("opensearch", "elasticsearch") and not self.url:
            raise ValueError(f"backend {self.backend} needs url")
        if not self.index_prefix or self.index_prefix != self.index_prefix.lower() or "*" in self.index_prefix:
            raise ValueError("index_prefix must be non-empty, lower case, without '*'")
        if self.batch_size < 1 or self.poll_interval <= 0 or self.max_backoff <= 0:
            raise ValueError("batch_size, poll_interval and max_backoff must be positive")


@dataclass(frozen=True)
class AuditConfig:
    journal_dir: str = "{state_dir}/audit"
    sinks: list[str] = field(default_factory=lambda: ["journal"])
    index: AuditIndexConfig = field(default_factory=AuditIndexConfig)
    fsync: bool = True
    """fsync the journal after every record (an event is on disk before the session moves on)."""
    rotate_bytes: int = 64 << 20
    """Start a new journal segment once the active one reaches this size (0: never by size)."""
    rotate_daily: bool = False
    """Also start a new segment at the first record of each UTC day."""
    retention_days: int = 0
    """Delete journal segments whose last record is older than this (0: keep forever).
    A segment is deleted only once the indexer has indexed it."""

    def __post_init__(self) -> None:
        if self.rotate_bytes < 0 or self.retention_days < 0:
            raise ValueError("rotate_bytes and retention_days must not be negative")


@dataclass(frozen=True)
class ReadinessConfig:
    """When this node takes new connections (``/healthz``; :mod:`bastion.runtime.readiness`)."""

    interval: float = 2.0
    """Seconds between checks (the listeners read the last result; no check per connection)."""
    timeout: float = 5.0
    """Seconds a check may take (a state store that hangs counts as unreachable)."""
    max_index_lag: int = 100_000
    """Journal records not yet in the audit index above which the node is not ready (0: not checked)."""
    max_status_age: float = 60.0
    """Seconds after which the indexer's last report counts as lost (its process is down)."""

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.timeout <= 0 or self.max_index_lag < 0 or self.max_status_age <= 0:
            raise ValueError("interval, timeout and max_status_age must be positive, max_index_lag not negative")


@dataclass(frozen=True)
class ServerConfig:
    """How ``bastion serve`` runs: processes, shutdown, and this node among the nodes that
    share one state store."""

    workers: int | Literal["auto"] = 1
    """gevent worker processes accepting on the listeners (``auto``: one per CPU). With
    more than one, a supervisor binds the listeners and runs the workers
    (:mod:`bastion.runtime.supervisor`); with one, the bastion is a single process."""
    drain_seconds: float = 10.0
    """On SIGTERM: stop accepting, let open sessions finish this long, then end them
    (their end record says ``drain``)."""
    node_id: str = ""
    """This node's name in the state store (open sessions, MySQL connection ids); default:
    the host name. Nodes sharing a state store must have different ids: a node that starts
    forgets what its id's previous run left registered (each worker ``I`` registers as
    ``<node_id>/worker-I``)."""
    readiness: ReadinessConfig = field(default_factory=ReadinessConfig)

    def __post_init__(self) -> None:
        if self.workers != "auto" and self.workers < 1:
            raise ValueError("workers must be at least 1 (or auto)")
        if self.drain_seconds < 0:
            raise ValueError("drain_seconds must not be negative")
        if len(self.node_id) > 100 or any(c.isspace() or c == "/" for c in self.node_id):
            raise ValueError("node_id: at most 100 characters, without spaces or '/'")

    def worker_count(self) -> int:
        """The number of worker processes (``auto``: the machine's CPUs)."""
        return (os.cpu_count() or 1) if self.workers == "auto" else self.workers


@dataclass(frozen=True)
class BastionConfig:
    """The whole configuration file."""

    state_dir: str = "./var"
    listeners: dict[str, ListenerConfig] = field(default_factory=dict)
    targets: list[TargetConfig] = field(default_factory=list)
    tls: TLSConfig = field(default_factory=TLSConfig)
    saml: SAMLConfig | None = None
    policies: PolicyConfig = field(default_factory=PolicyConfig)
    state: StateConfig = field(default_factory=StateConfig)
    vault: VaultConfig = field(default_factory=VaultConfig)
    tokens: TokenConfig = field(default_factory=TokenConfig)
    login_throttle: ThrottleConfig = field(default_factory=ThrottleConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    approvals: ApprovalsConfig = field(default_factory=ApprovalsConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    secret_key_file: str = "{state_dir}/web-secret.key"
    """Secret that signs the portal's session cookies; created (mode 0600) if missing."""
    public_host: str | None = None
    """Host name users' clients connect to (shown in the portal's commands); default: the
    host of ``saml.sp_base_url``."""

    def target(self, name: str) -> TargetConfig | None:
        return next((t for t in self.targets if t.name == name), None)
