"""Helpers to use Microsoft's REST examples (read in place from the shared folder, never copied) in tests."""

from __future__ import annotations

import base64
import datetime
import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def examples_root() -> Path:
    shared = os.environ.get("CF_SHARED_DIR")
    base = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return base / "azure-rest-examples"


def example_path(relative: str) -> Path:
    return examples_root() / relative


def load_example(relative: str) -> dict[str, Any]:
    path = example_path(relative)
    if not path.exists():
        pytest.skip(f"Microsoft example {path} is not available (set CF_SHARED_DIR)")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


# Fields every response must carry when the example's response carries them, whatever the request said.
ALWAYS = {"id", "name", "type", "provisioningState", "location"}


def assert_shape(actual: Any, documented: Any, request: Any = None, path: str = "$",
                 also: frozenset[str] = frozenset()) -> None:
    """Every key of the documented response that the request set (or that Azure always returns, or that the
    caller lists in `also`) is present in the actual response, recursively, with the same JSON kind."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in documented.items():
            wanted = key in ALWAYS or key in also or (isinstance(request, dict) and key in request)
            if not wanted:
                continue
            assert key in actual, f"{path}.{key} is documented but missing from {sorted(actual)}"
            sub_request = request.get(key) if isinstance(request, dict) else None
            assert_shape(actual[key], value, sub_request, f"{path}.{key}", also)
    elif isinstance(documented, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if documented and actual and isinstance(documented[0], dict):
            sub_request = request[0] if isinstance(request, list) and request else None
            assert_shape(actual[0], documented[0], sub_request, f"{path}[0]", also)
    elif isinstance(documented, bool):
        assert isinstance(actual, bool), f"{path}: expected a boolean, got {actual!r}"
    elif isinstance(documented, (int, float)):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), f"{path}: expected a number"
    elif isinstance(documented, str):
        assert isinstance(actual, str), f"{path}: expected a string, got {actual!r}"


def rewrite(value: Any, replacements: dict[str, str]) -> Any:
    """Replace placeholder IDs (other subscriptions, resource groups) inside an example body."""
    text = json.dumps(value)
    for old, new in replacements.items():
        text = text.replace(old, new)
    return json.loads(text)


def self_signed(common_name: str, password: str | None = None) -> tuple[str, str]:
    """A self-signed certificate: (base64 PFX with its key, protected by `password` when given; base64 DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    pfx = pkcs12.serialize_key_and_certificates(common_name.encode(), key, cert, None, encryption)
    return base64.b64encode(pfx).decode(), base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
