"""Key Vault certificates in the emulator's data plane: create with a Self issuer, pending operation, get, import,
and the managed secret each certificate has (what an Application Gateway reads)."""

from __future__ import annotations

import base64
import datetime as dt
import pathlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tests.emulator.dataplanes.keyvault_secrets import KeyVaultSecretsPlane
from tests.test_emulator.test_dataplane_keyvault import BASE, Client, Clock, error_code

POLICY = {
    "key_props": {"exportable": True, "kty": "RSA", "key_size": 2048, "reuse_key": False},
    "secret_props": {"contentType": "application/x-pkcs12"},
    "x509_props": {"subject": "CN=westeu-test-1.complianceflow.example",
                   "sans": {"dns_names": ["westeu-test-1.complianceflow.example"]},
                   "ekus": ["1.3.6.1.5.5.7.3.1"], "key_usage": ["digitalSignature", "keyEncipherment"],
                   "validity_months": 12},
    "issuer": {"name": "Self"},
}


@pytest.fixture
def kv(tmp_path: pathlib.Path) -> Client:
    return Client(KeyVaultSecretsPlane(tmp_path, clock=Clock()))


def operator_pfx(password: str, *, with_key: bool = True) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.contoso.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=90))
            .sign(key, hashes.SHA256()))
    blob = pkcs12.serialize_key_and_certificates(b"op", key if with_key else None, cert, None,
                                                 serialization.BestAvailableEncryption(password.encode()))
    return base64.b64encode(blob).decode()


def test_self_signed_certificate_is_a_real_x509_with_the_policys_subject_and_its_secret_holds_the_key(kv: Client) -> None:
    status, pending = kv.call("POST", "certificates/gateway-tls/create", {"policy": POLICY})
    assert status == 202, pending
    assert pending["status"] == "inProgress" and pending["issuer"] == {"name": "Self"}
    status, done = kv.call("GET", "certificates/gateway-tls/pending")
    assert (status, done["status"], done["target"]) == (200, "completed", f"{BASE}certificates/gateway-tls")
    status, bundle = kv.call("GET", "certificates/gateway-tls")
    assert status == 200
    cert = x509.load_der_x509_certificate(base64.b64decode(bundle["cer"]))
    assert cert.subject.rfc4514_string() == "CN=westeu-test-1.complianceflow.example"
    assert cert.issuer == cert.subject
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["westeu-test-1.complianceflow.example"]
    assert 360 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 366
    assert bundle["attributes"]["exp"] == int(cert.not_valid_after_utc.timestamp())
    assert bundle["x5t"] == base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).decode().rstrip("=")
    version = bundle["id"].rsplit("/", 1)[1]
    assert bundle["sid"] == f"{BASE}secrets/gateway-tls/{version}"
    status, secret = kv.call("GET", "secrets/gateway-tls")
    assert status == 200 and secret["managed"] is True and secret["contentType"] == "application/x-pkcs12"
    key, same, _chain = pkcs12.load_key_and_certificates(base64.b64decode(secret["value"]), None)
    assert same == cert and key is not None


def test_every_create_issues_a_new_version(kv: Client) -> None:
    kv.call("POST", "certificates/gateway-tls/create", {"policy": POLICY})
    _s, first = kv.call("GET", "certificates/gateway-tls")
    kv.call("POST", "certificates/gateway-tls/create", {"policy": POLICY})
    _s, second = kv.call("GET", "certificates/gateway-tls")
    assert first["id"] != second["id"] and first["x5t"] != second["x5t"]


@pytest.mark.parametrize(("change", "needle"), [
    ({"issuer": {"name": "DigiCert"}}, "not configured"),
    ({"issuer": {}}, "issuer.name"),
    ({"key_props": {"kty": "RSA", "key_size": 1024}}, "key size"),
    ({"x509_props": {"validity_months": 12}}, "subject"),
    ({"secret_props": {"contentType": "text/plain"}}, "content type"),
])
def test_policies_key_vault_refuses(kv: Client, change: dict[str, object], needle: str) -> None:
    status, body = kv.call("POST", "certificates/bad/create", {"policy": {**POLICY, **change}})
    assert status == 400 and error_code(body) == "BadParameter" and needle in body["error"]["message"]
    assert kv.call("GET", "certificates/bad")[0] == 404


def test_missing_certificate_and_operation_are_404(kv: Client) -> None:
    status, body = kv.call("GET", "certificates/none")
    assert status == 404 and error_code(body) == "CertificateNotFound"
    assert kv.call("GET", "certificates/none/pending")[0] == 404


def test_import_of_the_operators_pfx_keeps_their_certificate(kv: Client) -> None:
    pfx = operator_pfx("op-secret")
    status, bundle = kv.call("POST", "certificates/gateway-tls/import",
                             {"value": pfx, "pwd": "op-secret",
                              "policy": {"secret_props": {"contentType": "application/x-pkcs12"}}})
    assert status == 200, bundle
    given = pkcs12.load_key_and_certificates(base64.b64decode(pfx), b"op-secret")[1]
    assert x509.load_der_x509_certificate(base64.b64decode(bundle["cer"])) == given
    assert bundle["policy"]["issuer"] == {"name": "Unknown"}
    _s, secret = kv.call("GET", "secrets/gateway-tls")
    assert pkcs12.load_key_and_certificates(base64.b64decode(secret["value"]), None)[1] == given


@pytest.mark.parametrize(("value", "password"), [
    ("not base64 !", None),
    (base64.b64encode(b"garbage").decode(), "x"),
])
def test_import_refuses_what_is_no_certificate(kv: Client, value: str, password: str | None) -> None:
    status, body = kv.call("POST", "certificates/c/import", {"value": value, "pwd": password})
    assert status == 400 and error_code(body) == "BadParameter"


def test_import_refuses_a_wrong_password_and_a_certificate_without_its_key(kv: Client) -> None:
    assert kv.call("POST", "certificates/c/import", {"value": operator_pfx("right"), "pwd": "wrong"})[0] == 400
    status, body = kv.call("POST", "certificates/c/import", {"value": operator_pfx("pw", with_key=False), "pwd": "pw"})
    assert status == 400 and "Private key" in body["error"]["message"]


def test_a_plain_secret_of_that_name_is_not_overwritten_by_a_certificate(kv: Client) -> None:
    kv.set("taken", "value")
    status, body = kv.call("POST", "certificates/taken/create", {"policy": POLICY})
    assert status == 409, body
