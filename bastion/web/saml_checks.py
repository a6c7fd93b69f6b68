"""The SAML response checks the bastion adds to python3-saml's, each rejection naming a
stable ``code`` (see ``saml_sp``'s theory of operation). Pure functions of the response."""

from __future__ import annotations

from typing import Any

from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.utils import OneLogin_Saml2_Utils

BEARER = OneLogin_Saml2_Constants.CM_BEARER


class SAMLRejected(Exception):
    """A SAML message was refused; ``code`` is short and stable, ``reason`` is for the log."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def destination(response: OneLogin_Saml2_Response, acs_url: str) -> None:
    """Destination must be present and be our ACS URL exactly."""
    destination = response.document.get("Destination")
    if not destination or (OneLogin_Saml2_Utils.normalize_url(destination)
                           != OneLogin_Saml2_Utils.normalize_url(acs_url)):
        raise SAMLRejected("wrong_destination", f"Destination {destination!r} is not {acs_url!r}")

def recipient(response: OneLogin_Saml2_Response, acs_url: str) -> Any:
    """A bearer SubjectConfirmationData naming our ACS URL exactly (python3-saml only
    checks a substring); returns it."""
    nodes = response._query_assertion(  # noqa: SLF001 - the signed assertion, as python3-saml finds it
        "/saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData")
    for node in nodes:
        method = node.getparent().get("Method")
        if method == BEARER and node.get("Recipient") == acs_url:
            return node
    recipients = [n.get("Recipient") for n in nodes]
    raise SAMLRejected("wrong_recipient", f"no bearer SubjectConfirmation for {acs_url!r} "
                                          f"(recipients: {recipients})")

def audience(response: OneLogin_Saml2_Response, entity_id: str) -> None:
    """An AudienceRestriction must exist and every one must name us."""
    restrictions = response._query_assertion("/saml:Conditions/saml:AudienceRestriction")  # noqa: SLF001
    if not restrictions:
        raise SAMLRejected("wrong_audience", "the assertion has no AudienceRestriction")
    ns = {"saml": OneLogin_Saml2_Constants.NS_SAML}
    for restriction in restrictions:
        audiences = [(a.text or "").strip() for a in restriction.findall("saml:Audience", ns)]
        if entity_id not in audiences:
            raise SAMLRejected("wrong_audience", f"audience {audiences} does not include {entity_id!r}")

def conditions(response: OneLogin_Saml2_Response, scd: Any, now: float, skew: float) -> float:
    """NotBefore/NotOnOrAfter with ``skew``; returns when the assertion expires."""
    conditions = response._query_assertion("/saml:Conditions")  # noqa: SLF001
    expiries: list[float] = []
    for cond in conditions:
        not_before, not_after = cond.get("NotBefore"), cond.get("NotOnOrAfter")
        if not_before and OneLogin_Saml2_Utils.parse_SAML_to_time(not_before) > now + skew:
            raise SAMLRejected("not_yet_valid", f"NotBefore {not_before} is in the future (skew {skew}s)")
        if not_after:
            at = float(OneLogin_Saml2_Utils.parse_SAML_to_time(not_after))
            if at + skew <= now:
                raise SAMLRejected("expired", f"NotOnOrAfter {not_after} has passed (skew {skew}s)")
            expiries.append(at)
    scd_after = scd.get("NotOnOrAfter")
    if scd_after:
        expiries.append(float(OneLogin_Saml2_Utils.parse_SAML_to_time(scd_after)))
    if not expiries:
        raise SAMLRejected("no_expiry", "the assertion has no NotOnOrAfter (Conditions or SubjectConfirmation)")
    return max(expiries)
