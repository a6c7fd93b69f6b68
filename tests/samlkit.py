"""Craft, sign, tamper with and wrap SAML responses for tests (no sockets).

``TestIdP`` is a throwaway IdP key pair that issues responses the way SimpleSAMLphp does
(signed Response and Assertion, RSA-SHA256, exclusive C14N). ``resign`` re-signs any
response (e.g. one SimpleSAMLphp issued, after a change) with a given key, so a test
can prove that one specific check — not the signature — refuses it. The ``xsw_*``
functions build the classic XML signature wrapping attacks on a signed response.
"""

from __future__ import annotations

import base64
import copy
import datetime
import time
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def new_id() -> str:
    return "_" + uuid.uuid4().hex


def keypair(cn: str = "test-idp") -> tuple[bytes, bytes]:
    """(private key PEM, self-signed certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def cert_body(cert_pem: bytes) -> str:
    return "".join(line for line in cert_pem.decode().splitlines() if "-----" not in line)


@dataclass
class TestIdP:
    entity_id: str
    key_pem: bytes
    cert_pem: bytes
    __test__ = False  # not a pytest test class

    @classmethod
    def generate(cls, entity_id: str = "https://idp.test/metadata") -> TestIdP:
        key, cert = keypair()
        return cls(entity_id, key, cert)

    def metadata(self, sso_url: str = "https://idp.test/sso", slo_url: str = "https://idp.test/slo") -> str:
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="{DS}" entityID="{self.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{cert_body(self.cert_pem)}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{slo_url}"/>
    <md:NameIDFormat>{TRANSIENT}</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso_url}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""

    def response(self, *, acs: str, audience: str, in_response_to: str | None, user: str = "alice",
                 groups: Iterable[str] = ("dba", "admins"), email: str | None = None, display_name: str = "",
                 now: float | None = None, not_before: float | None = None, not_on_or_after: float | None = None,
                 scd_not_on_or_after: float | None = None, destination: str | None = None,
                 recipient: str | None = None, session_not_on_or_after: float | None = None,
                 attributes: dict[str, list[str]] | None = None, sign: str = "both") -> etree._Element:
        """A response as SimpleSAMLphp builds it; ``sign`` is ``both``, ``assertion``, ``response`` or ``none``."""
        now = time.time() if now is None else now
        nb = iso(not_before if not_before is not None else now - 30)
        nooa = iso(not_on_or_after if not_on_or_after is not None else now + 300)
        scd_nooa = iso(scd_not_on_or_after if scd_not_on_or_after is not None else now + 300)
        irt = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        attrs = {"uid": [user], "mail": [email or f"{user}@example.org"],
                 "displayName": [display_name or user.title()], "eduPersonAffiliation": list(groups)}
        attrs.update(attributes or {})
        attr_xml = "".join(
            f'<saml:Attribute Name="{name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">'
            + "".join(f'<saml:AttributeValue xsi:type="xs:string">{v}</saml:AttributeValue>' for v in values)
            + "</saml:Attribute>" for name, values in attrs.items())
        session_end = (f' SessionNotOnOrAfter="{iso(session_not_on_or_after)}"'
                       if session_not_on_or_after else f' SessionNotOnOrAfter="{iso(now + 8 * 3600)}"')
        xml = f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{new_id()}" Version="2.0"
    IssueInstant="{iso(now)}" Destination="{destination or acs}"{irt}>
<saml:Issuer>{self.entity_id}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    ID="{new_id()}" Version="2.0" IssueInstant="{iso(now)}">
<saml:Issuer>{self.entity_id}</saml:Issuer>
<saml:Subject><saml:NameID SPNameQualifier="{audience}" Format="{TRANSIENT}">{new_id()}</saml:NameID>
<saml:SubjectConfirmation Method="{BEARER}">
<saml:SubjectConfirmationData NotOnOrAfter="{scd_nooa}" Recipient="{recipient or acs}"{irt}/>
</saml:SubjectConfirmation></saml:Subject>
<saml:Conditions NotBefore="{nb}" NotOnOrAfter="{nooa}">
<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
<saml:AuthnStatement AuthnInstant="{iso(now)}"{session_end} SessionIndex="{new_id()}"><saml:AuthnContext>
<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef>
</saml:AuthnContext></saml:AuthnStatement>
<saml:AttributeStatement>{attr_xml}</saml:AttributeStatement>
</saml:Assertion>
</samlp:Response>"""
        root = etree.fromstring(xml.encode())
        return resign(root, self.key_pem, self.cert_pem, sign)


# --------------------------------------------------------------------------- signing


def sign_element(elem: etree._Element, key_pem: bytes, cert_pem: bytes) -> None:
    """Enveloped RSA-SHA256 signature on ``elem``, placed right after its Issuer."""
    signature = xmlsec.template.create(elem, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds")
    issuer = elem.find(f"{{{SAML}}}Issuer")
    if issuer is not None:
        issuer.addnext(signature)
    else:
        elem.insert(0, signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#" + elem.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    ctx = xmlsec.SignatureContext()
    key = xmlsec.Key.from_memory(key_pem, xmlsec.KeyFormat.PEM, None)
    key.load_cert_from_memory(cert_pem, xmlsec.KeyFormat.PEM)
    ctx.key = key
    ctx.register_id(elem, "ID")
    ctx.sign(signature)


def strip_signatures(root: etree._Element) -> etree._Element:
    for sig in root.findall(".//ds:Signature", NS):
        sig.getparent().remove(sig)
    return root


def resign(root: etree._Element, key_pem: bytes, cert_pem: bytes, what: str = "both") -> etree._Element:
    """Drop every signature, then sign the assertion and/or the response afresh."""
    strip_signatures(root)
    if what in ("both", "assertion"):
        sign_element(assertion(root), key_pem, cert_pem)
    if what in ("both", "response"):
        sign_element(root, key_pem, cert_pem)
    return root


# --------------------------------------------------------------------------- encoding


def decode(saml_response: str) -> etree._Element:
    return etree.fromstring(base64.b64decode(saml_response))


def encode(root: etree._Element) -> str:
    return base64.b64encode(etree.tostring(root)).decode()


def request_id_from_redirect(url: str) -> str:
    """The ID of the AuthnRequest in an HTTP-Redirect binding URL."""
    value = parse_qs(urlsplit(url).query)["SAMLRequest"][0]
    xml = zlib.decompress(base64.b64decode(value), -15)
    return str(etree.fromstring(xml).get("ID"))


# --------------------------------------------------------------------------- editing


def assertion(root: etree._Element) -> etree._Element:
    found = root.find("saml:Assertion", NS)
    assert found is not None, "no assertion directly under the Response"
    return found


def set_attribute(root: etree._Element, name: str, values: list[str]) -> etree._Element:
    """Replace an attribute's values in the (first) assertion; signatures are left as they are."""
    attr = root.find(f".//saml:Attribute[@Name='{name}']", NS)
    assert attr is not None, name
    template = attr[0]
    for value in list(attr):
        attr.remove(value)
    for v in values:
        node = copy.deepcopy(template)
        node.text = v
        attr.append(node)
    return root


def set_conditions(root: etree._Element, *, not_before: float | None = None, not_on_or_after: float | None = None,
                   scd_not_on_or_after: float | None = None, audience: str | None = None,
                   recipient: str | None = None, destination: str | None = None) -> etree._Element:
    a = assertion(root)
    cond = a.find("saml:Conditions", NS)
    scd = a.find(".//saml:SubjectConfirmationData", NS)
    if not_before is not None:
        cond.set("NotBefore", iso(not_before))
    if not_on_or_after is not None:
        cond.set("NotOnOrAfter", iso(not_on_or_after))
    if scd_not_on_or_after is not None:
        scd.set("NotOnOrAfter", iso(scd_not_on_or_after))
    if audience is not None:
        a.find(".//saml:Audience", NS).text = audience
    if recipient is not None:
        scd.set("Recipient", recipient)
    if destination is not None:
        root.set("Destination", destination)
    return root


def drop_response_signature(root: etree._Element) -> etree._Element:
    """Remove only the Response's own signature (an attacker can; the assertion's stays)."""
    sig = root.find("ds:Signature", NS)
    if sig is not None:
        root.remove(sig)
    return root


def _evil_copy(signed: etree._Element, user: str, groups: list[str]) -> etree._Element:
    evil = copy.deepcopy(signed)
    sig = evil.find("ds:Signature", NS)
    if sig is not None:
        evil.remove(sig)
    evil.set("ID", new_id())
    for name, values in (("uid", [user]), ("eduPersonAffiliation", groups)):
        attr = evil.find(f".//saml:Attribute[@Name='{name}']", NS)
        if attr is not None:
            for v in list(attr)[1:]:
                attr.remove(v)
            attr[0].text = values[0]
            for extra in values[1:]:
                node = copy.deepcopy(attr[0])
                node.text = extra
                attr.append(node)
    return evil


def _extensions(root: etree._Element) -> etree._Element:
    ext = etree.Element(f"{{{SAMLP}}}Extensions")
    anchor = root.find("ds:Signature", NS)
    if anchor is None:
        anchor = root.find("saml:Issuer", NS)
    anchor.addnext(ext)
    return ext


def xsw_extensions(root: etree._Element, user: str = "mallory", groups: list[str] | None = None) -> etree._Element:
    """The signed assertion moved into ``samlp:Extensions``; a forged one in its place."""
    root = drop_response_signature(copy.deepcopy(root))
    signed = assertion(root)
    evil = _evil_copy(signed, user, groups or ["admins"])
    signed.addprevious(evil)
    root.remove(signed)
    _extensions(root).append(signed)
    return root


def xsw_object(root: etree._Element, user: str = "mallory", groups: list[str] | None = None) -> etree._Element:
    """A forged assertion in place whose ``ds:Signature/ds:Object`` carries the signed original."""
    root = drop_response_signature(copy.deepcopy(root))
    signed = assertion(root)
    evil = _evil_copy(signed, user, groups or ["admins"])
    sig = copy.deepcopy(signed.find("ds:Signature", NS))
    obj = etree.SubElement(sig, f"{{{DS}}}Object")
    evil.find("saml:Issuer", NS).addnext(sig)
    signed.addprevious(evil)
    root.remove(signed)
    obj.append(signed)
    return root


def xsw_sibling(root: etree._Element, user: str = "mallory", groups: list[str] | None = None,
                before: bool = True) -> etree._Element:
    """A forged (unsigned) assertion next to the untouched signed one."""
    root = drop_response_signature(copy.deepcopy(root))
    signed = assertion(root)
    evil = _evil_copy(signed, user, groups or ["admins"])
    if before:
        signed.addprevious(evil)
    else:
        signed.addnext(evil)
    return root


def xsw_same_id(root: etree._Element, user: str = "mallory", groups: list[str] | None = None) -> etree._Element:
    """The forged assertion keeps the original's ID and signature; the original hides in Extensions."""
    root = drop_response_signature(copy.deepcopy(root))
    signed = assertion(root)
    evil = _evil_copy(signed, user, groups or ["admins"])
    evil.set("ID", signed.get("ID"))
    evil.find("saml:Issuer", NS).addnext(copy.deepcopy(signed.find("ds:Signature", NS)))
    signed.addprevious(evil)
    root.remove(signed)
    _extensions(root).append(signed)
    return root


def xsw_response_wrapper(root: etree._Element, user: str = "mallory",
                         groups: list[str] | None = None) -> etree._Element:
    """A new, unsigned Response with a forged assertion wraps the whole signed original."""
    original = copy.deepcopy(root)
    outer = copy.deepcopy(root)
    strip_signatures(outer)
    outer.set("ID", new_id())
    signed = assertion(outer)
    evil = _evil_copy(signed, user, groups or ["admins"])
    signed.addprevious(evil)
    outer.remove(signed)
    _extensions(outer).append(original)
    return outer


def xsw_forged_in_place(root: etree._Element, user: str = "mallory",
                        groups: list[str] | None = None) -> etree._Element:
    """One assertion only: the forged content under the original ID and signature (digest mismatch)."""
    root = drop_response_signature(copy.deepcopy(root))
    signed = assertion(root)
    evil = _evil_copy(signed, user, groups or ["admins"])
    evil.set("ID", signed.get("ID"))
    evil.find("saml:Issuer", NS).addnext(copy.deepcopy(signed.find("ds:Signature", NS)))
    signed.addprevious(evil)
    root.remove(signed)
    return root


def xsw_dangling_reference(root: etree._Element, user: str = "mallory",
                           groups: list[str] | None = None) -> etree._Element:
    """One assertion only, with a new ID; its signature still references the original's ID."""
    root = drop_response_signature(copy.deepcopy(root))
    signed = assertion(root)
    evil = _evil_copy(signed, user, groups or ["admins"])
    evil.find("saml:Issuer", NS).addnext(copy.deepcopy(signed.find("ds:Signature", NS)))
    signed.addprevious(evil)
    root.remove(signed)
    return root


def comment_injection(root: etree._Element, attribute: str = "uid", split_at: int = 3) -> etree._Element:
    """Put an XML comment inside an attribute value: exclusive C14N drops comments, so the
    signature stays valid; a parser that reads only the first text node sees a prefix."""
    value = root.find(f".//saml:Attribute[@Name='{attribute}']/saml:AttributeValue", NS)
    text = value.text or ""
    value.text = text[:split_at]
    comment = etree.Comment("")
    comment.tail = text[split_at:]
    value.append(comment)
    return root


XSW_VARIANTS: dict[str, Callable[[etree._Element], etree._Element]] = {
    "forged-in-place": xsw_forged_in_place,
    "dangling-reference": xsw_dangling_reference,
    "extensions": xsw_extensions,
    "signature-object": xsw_object,
    "sibling-before": lambda r: xsw_sibling(r, before=True),
    "sibling-after": lambda r: xsw_sibling(r, before=False),
    "same-id": xsw_same_id,
    "response-wrapper": xsw_response_wrapper,
}


def logout_request(*, issuer: str, destination: str, name_id: str) -> str:
    """An IdP-initiated LogoutRequest, deflated and base64-encoded for the HTTP-Redirect binding."""
    xml = (f'<samlp:LogoutRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{new_id()}" Version="2.0" '
           f'IssueInstant="{iso(time.time())}" Destination="{destination}"><saml:Issuer>{issuer}</saml:Issuer>'
           f'<saml:NameID Format="{TRANSIENT}">{name_id}</saml:NameID></samlp:LogoutRequest>')
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(deflate.compress(xml.encode()) + deflate.flush()).decode()
