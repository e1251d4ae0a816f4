"""Key Vault certificates (REST api-version 7.x): create by policy with a Self issuer, pending operation, get, import.

Written from the Key Vault data-plane REST reference (Azure/azure-rest-api-specs, specification/keyvault/data-plane,
certificates.json: CreateCertificate, GetCertificateOperation, GetCertificate, ImportCertificate) and the Key Vault
documentation "About Azure Key Vault certificates". What Key Vault does and this module models:

- A certificate is addressable as ``certificates/<name>``; its private key and chain are also a *managed* secret of
  the same name (``secrets/<name>``, ``managed: true``, ``kid``), holding the PKCS#12 (base64) or the PEM, as the
  policy's ``secret_props.contentType`` says (``application/x-pkcs12`` by default).
- ``POST certificates/<name>/create`` with a policy whose issuer is ``Self`` answers 202 with the pending
  operation and issues a real self-signed X.509 certificate (the ``cryptography`` package): RSA (2048, 3072, 4096)
  or EC (P-256, P-384, P-521) key, the policy's subject, DNS names, key usages, EKUs and validity in months. Every
  create issues a new version. Issuers other than ``Self`` need a configured issuer the emulator does not have
  (400 ``BadParameter``). ``GET certificates/<name>/pending`` reports ``completed`` once issued.
- ``POST certificates/<name>/import`` takes a PFX (base64, with ``pwd``) or a PEM holding the key and the
  certificate; a value that is neither, a wrong password or a certificate without its private key is refused
  (400 ``BadParameter``).
- ``GET certificates/<name>`` returns the latest version: ``id``, ``kid``, ``sid``, ``x5t`` (SHA-1 thumbprint,
  base64url), ``cer`` (DER, base64), ``attributes`` (``nbf``, ``exp`` from the certificate), ``policy``, ``tags``;
  404 ``CertificateNotFound`` when there is none.

Known gaps: certificate deletion and recovery, issuers, contacts, merge of CSRs, lifetime actions (stored, never
run) and list operations are not modelled (404 or 405).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import uuid
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PKCS12 = "application/x-pkcs12"
PEM = "application/x-pem-file"
RSA_SIZES = (2048, 3072, 4096)
CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
KEY_USAGES = ("digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
              "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly")


class CertificateError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> CertificateError:
    return CertificateError(400, "BadParameter", message)


def not_found(name: str) -> CertificateError:
    return CertificateError(404, "CertificateNotFound",
                            f"A certificate with (name/id) {name} was not found in this key vault. If you recently "
                            "deleted this certificate you may be able to recover it using the correct recovery command.")


def normalise_policy(raw: Any, *, imported: bool) -> dict[str, Any]:
    """The policy as Key Vault stores it, after Key Vault's checks."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _bad("Property 'policy' must be an object.")
    policy = copy.deepcopy(raw)
    key = policy.setdefault("key_props", {})
    kty = str(key.setdefault("kty", "RSA"))
    if kty not in ("RSA", "RSA-HSM", "EC", "EC-HSM"):
        raise _bad(f"Invalid key type '{kty}'. Supported: RSA, RSA-HSM, EC, EC-HSM.")
    if kty.startswith("RSA"):
        size = key.setdefault("key_size", 2048)
        if size not in RSA_SIZES:
            raise _bad(f"Invalid RSA key size {size}. Supported: 2048, 3072, 4096.")
    elif str(key.setdefault("crv", "P-256")) not in CURVES:
        raise _bad(f"Invalid curve '{key['crv']}'. Supported: {', '.join(CURVES)}.")
    key.setdefault("exportable", True)
    key.setdefault("reuse_key", False)
    secret = policy.setdefault("secret_props", {})
    content_type = secret.setdefault("contentType", PKCS12)
    if content_type not in (PKCS12, PEM):
        raise _bad(f"Invalid content type '{content_type}'. Supported: {PKCS12}, {PEM}.")
    if imported:
        policy.setdefault("issuer", {"name": "Unknown"})
        return policy
    issuer = (policy.get("issuer") or {}).get("name")
    if issuer != "Self":
        if not issuer:
            raise _bad("Property 'policy.issuer.name' is required.")
        raise _bad(f"Issuer '{issuer}' is not configured in this vault (the emulator issues 'Self' certificates only).")
    x509_props = policy.get("x509_props")
    if not isinstance(x509_props, dict) or not (x509_props.get("subject") or (x509_props.get("sans") or {})):
        raise _bad("A certificate policy needs x509_props with a subject or subject alternative names.")
    months = x509_props.setdefault("validity_months", 12)
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 1200:
        raise _bad(f"Invalid validity_months {months!r}.")
    for usage in x509_props.get("key_usage") or []:
        if usage not in KEY_USAGES:
            raise _bad(f"Invalid key usage '{usage}'.")
    return policy


def _subject(text: str) -> x509.Name:
    names = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
             "C": NameOID.COUNTRY_NAME, "L": NameOID.LOCALITY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME}
    attributes = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        key, _sep, value = part.partition("=")
        if key.strip().upper() not in names or not value:
            raise _bad(f"The subject '{text}' is not a valid X.500 distinguished name.")
        attributes.append(x509.NameAttribute(names[key.strip().upper()], value.strip()))
    return x509.Name(attributes)


def issue_self_signed(policy: dict[str, Any], now: dt.datetime) -> tuple[Any, x509.Certificate]:
    """A real self-signed certificate and its key, as the policy describes them."""
    key_props, props = policy["key_props"], policy["x509_props"]
    key: Any
    if str(key_props["kty"]).startswith("RSA"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(key_props["key_size"]))
    else:
        key = ec.generate_private_key(CURVES[str(key_props["crv"])]())
    dns_names = list((props.get("sans") or {}).get("dns_names") or [])
    subject = _subject(str(props.get("subject") or f"CN={dns_names[0]}"))
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=30 * int(props["validity_months"]))))
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
                                        critical=False)
    usages = set(props.get("key_usage") or ["digitalSignature", "keyEncipherment"])
    builder = builder.add_extension(x509.KeyUsage(
        digital_signature="digitalSignature" in usages, content_commitment="nonRepudiation" in usages,
        key_encipherment="keyEncipherment" in usages, data_encipherment="dataEncipherment" in usages,
        key_agreement="keyAgreement" in usages, key_cert_sign="keyCertSign" in usages, crl_sign="cRLSign" in usages,
        encipher_only="encipherOnly" in usages, decipher_only="decipherOnly" in usages), critical=True)
    ekus = [x509.ObjectIdentifier(o) for o in props.get("ekus") or [ExtendedKeyUsageOID.SERVER_AUTH.dotted_string]]
    builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    return key, builder.sign(key, hashes.SHA256())


def load_import(value: Any, password: Any) -> tuple[Any, x509.Certificate, list[x509.Certificate]]:
    """Key, certificate and chain of an imported PFX (base64) or PEM, refused as Key Vault refuses them."""
    if not isinstance(value, str) or not value:
        raise _bad("Property 'value' is required: the certificate (PFX as base64, or PEM).")
    if password is not None and not isinstance(password, str):
        raise _bad("Property 'pwd' must be a string.")
    if "-----BEGIN" in value:
        data = value.encode()
        try:
            certs = x509.load_pem_x509_certificates(data)
            key = serialization.load_pem_private_key(data, password=password.encode() if password else None)
        except ValueError as err:
            raise _bad("The specified PEM X.509 certificate content is in an unexpected format, or does not hold "
                       f"its private key: {err}") from err
        return key, certs[0], certs[1:]
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError as err:
        raise _bad("The specified PKCS#12 content is not valid base64.") from err
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(raw, password.encode() if password else None)
    except ValueError as err:
        raise _bad("The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate "
                   "is in valid PKCS#12 format and the password is correct.") from err
    if cert is None or key is None:
        raise _bad("Private key is not specified in the specified X.509 PEM/PKCS#12 content.")
    return key, cert, list(chain)


def secret_value(key: Any, cert: x509.Certificate, chain: list[x509.Certificate], content_type: str,
                 name: str) -> str:
    """What the certificate's managed secret holds: the PKCS#12 (base64, no password) or the PEM key and chain."""
    if content_type == PEM:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        for item in [cert, *chain]:
            pem += item.public_bytes(serialization.Encoding.PEM)
        return pem.decode()
    blob = pkcs12.serialize_key_and_certificates(name.encode(), key, cert, chain or None,
                                                 serialization.NoEncryption())
    return base64.b64encode(blob).decode()


def version_record(cert: x509.Certificate, policy: dict[str, Any], tags: dict[str, str], now: int,
                   enabled: bool = True) -> dict[str, Any]:
    der = cert.public_bytes(serialization.Encoding.DER)
    return {
        "version": uuid.uuid4().hex,
        "cer": base64.b64encode(der).decode(),
        "x5t": base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).decode().rstrip("="),
        "nbf": int(cert.not_valid_before_utc.timestamp()),
        "exp": int(cert.not_valid_after_utc.timestamp()),
        "policy": policy,
        "tags": tags,
        "enabled": enabled,
        "created": now,
        "updated": now,
    }


def bundle(base_url: str, name: str, version: dict[str, Any], recovery: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f"{base_url}certificates/{name}/{version['version']}",
        "kid": f"{base_url}keys/{name}/{version['version']}",
        "sid": f"{base_url}secrets/{name}/{version['version']}",
        "x5t": version["x5t"],
        "cer": version["cer"],
        "attributes": {"enabled": version["enabled"], "nbf": version["nbf"], "exp": version["exp"],
                       "created": version["created"], "updated": version["updated"], **recovery},
        "policy": {"id": f"{base_url}certificates/{name}/policy", **copy.deepcopy(version["policy"])},
    }
    if version.get("tags"):
        out["tags"] = dict(version["tags"])
    return out


def operation(base_url: str, name: str, issuer: str, request_id: str, completed: bool) -> dict[str, Any]:
    return {
        "id": f"{base_url}certificates/{name}/pending",
        "issuer": {"name": issuer},
        "cancellation_requested": False,
        "status": "completed" if completed else "inProgress",
        "status_details": "" if completed else "Pending certificate created. Certificate request is in progress.",
        "target": f"{base_url}certificates/{name}",
        "request_id": request_id,
    }
