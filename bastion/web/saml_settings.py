"""The SAML service provider's settings: ours (entity, ACS and SLS URLs, what we require
signed) merged with the IdP's metadata.

The IdP's metadata comes from ``saml.idp_metadata_file`` (read at start-up: a bad file
fails start-up with a :class:`ConfigError`) or ``saml.idp_metadata_url`` (fetched at
start-up; while the IdP is unreachable the protocol listeners still start, and every
sign-in retries, at most every :data:`RETRY_SECONDS`, answering 503 until it works).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from bastion.config.model import SAMLConfig
from bastion.config.schema import ConfigError

log = logging.getLogger("bastion.saml")

RETRY_SECONDS = 10.0
METADATA_TIMEOUT = 10


class IdPUnavailable(Exception):
    """The IdP metadata could not be loaded (yet); sign-in answers 503."""


class SPSettings:
    """python3-saml settings for ``cfg``, the IdP's metadata loaded once."""

    def __init__(self, cfg: SAMLConfig) -> None:
        self.cfg = cfg
        self._settings: OneLogin_Saml2_Settings | None = None
        self._lock = threading.Lock()
        self._next_try = 0.0
        self._last_error = ""
        if cfg.idp_metadata_file:
            try:
                self._settings = self._build(self._read_file(cfg.idp_metadata_file))
            except (OSError, ValueError, OneLogin_Saml2_Error) as exc:
                raise ConfigError([f"saml.idp_metadata_file: {cfg.idp_metadata_file}: {exc}"]) from None
        else:
            try:
                self.settings()
            except IdPUnavailable as exc:
                log.error("IdP metadata unavailable at start-up; sign-in retries on demand",
                          extra={"url": cfg.idp_metadata_url, "error": str(exc)})

    @property
    def acs_url(self) -> str:
        return f"{self.cfg.base_url}/saml/acs"

    @property
    def sls_url(self) -> str:
        return f"{self.cfg.base_url}/saml/sls"

    def sp_settings(self) -> dict[str, Any]:
        cfg = self.cfg
        return {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": cfg.entity_id,
                "assertionConsumerService": {"url": self.acs_url,
                                             "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST},
                "singleLogoutService": {"url": self.sls_url,
                                        "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT},
                "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_UNSPECIFIED,
            },
            "security": {
                "authnRequestsSigned": False,
                "logoutRequestSigned": False,
                "logoutResponseSigned": False,
                "wantMessagesSigned": cfg.want_messages_signed,
                "wantAssertionsSigned": cfg.want_assertions_signed,
                "wantAssertionsEncrypted": False,
                "wantNameIdEncrypted": False,
                "wantAttributeStatement": True,
                "rejectDeprecatedAlgorithm": True,
                "requestedAuthnContext": False,
                "signMetadata": False,
            },
        }

    def metadata(self) -> str:
        """The SP metadata XML (needs no IdP)."""
        settings = OneLogin_Saml2_Settings(self.sp_settings(), sp_validation_only=True)
        xml = settings.get_sp_metadata()
        return xml.decode() if isinstance(xml, bytes) else str(xml)

    def _read_file(self, path: str) -> dict[str, Any]:
        return dict(OneLogin_Saml2_IdPMetadataParser.parse(Path(path).read_bytes(), entity_id=self.cfg.idp_entity_id))

    def _fetch(self) -> dict[str, Any]:
        url = self.cfg.idp_metadata_url or ""
        if url.startswith("http://") and urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            log.warning("IdP metadata fetched over plain http: its signing certificate is not protected "
                        "in transit; use https or saml.idp_metadata_file", extra={"url": url})
        return dict(OneLogin_Saml2_IdPMetadataParser.parse_remote(
            url, validate_cert=True, entity_id=self.cfg.idp_entity_id, timeout=METADATA_TIMEOUT))

    def _build(self, parsed: dict[str, Any]) -> OneLogin_Saml2_Settings:
        idp = parsed.get("idp") or {}
        if not idp.get("entityId"):
            raise ValueError("no IdP entity (IDPSSODescriptor) found in the metadata")
        if not (idp.get("singleSignOnService") or {}).get("url"):
            raise ValueError("the IdP metadata has no HTTP-Redirect SingleSignOnService")
        if not idp.get("x509cert") and not (idp.get("x509certMulti") or {}).get("signing"):
            raise ValueError("the IdP metadata has no signing certificate")
        merged = OneLogin_Saml2_IdPMetadataParser.merge_settings(self.sp_settings(), parsed)
        return OneLogin_Saml2_Settings(merged)

    def settings(self) -> OneLogin_Saml2_Settings:
        """The python3-saml settings; loads the IdP metadata on first use (URL case)."""
        if self._settings is not None:
            return self._settings
        with self._lock:
            if self._settings is not None:
                return self._settings
            if time.monotonic() < self._next_try:
                raise IdPUnavailable(self._last_error)
            try:
                self._settings = self._build(self._fetch())
            except Exception as exc:  # noqa: BLE001 - any failure means: no IdP yet, retry later
                self._next_try = time.monotonic() + RETRY_SECONDS
                self._last_error = f"{self.cfg.idp_metadata_url}: {type(exc).__name__}: {exc}"
                raise IdPUnavailable(self._last_error) from None
            log.info("IdP metadata loaded", extra={"idp": self._settings.get_idp_data()["entityId"]})
            return self._settings

    @property
    def idp_entity_id(self) -> str:
        return str(self.settings().get_idp_data()["entityId"])
