import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID


def certificate_for(key_pem, *, not_before, not_after):
    """A self-signed certificate of `key_pem` valid between the two times."""
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ymca-test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def expiring_certificate(key_pair):
    """Make a certificate of the session key that expires `days` from now."""

    def make(days, *, hours=0):
        now = dt.datetime.now(dt.timezone.utc)
        return certificate_for(
            key_pair[0],
            not_before=now - dt.timedelta(days=400),
            not_after=now + dt.timedelta(days=days, hours=hours),
        )

    return make
