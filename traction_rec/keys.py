"""The RSA key that signs the JWT assertion, and its certificate.

Keys reach us pasted into a browser, copied out of a password manager or set
as an environment variable, and arrive damaged in the usual ways: CRLF line
ends, trailing spaces, literal `\\n` sequences instead of line breaks, or
every line break flattened to a space. `repair_pem` undoes those; the loaders
then say in a sentence what is wrong with what is left (a certificate or an
EC key in the key field, a missing or wrong passphrase, a key that does not
belong to the certificate).
"""

import datetime as dt
import hashlib
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from traction_rec.errors import ConfigurationError

MIN_KEY_BITS = 2048

_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL
)
_HEADER = re.compile(r"^([A-Za-z-]+):\s*(\S+)\s*")


class KeyProblem(ValueError):
    """What is wrong with a pasted key or certificate, said as a sentence."""


@dataclass(frozen=True)
class LoadedKey:
    key: rsa.RSAPrivateKey
    pem: str  # the repaired text, still encrypted if it was
    encrypted: bool

    @property
    def bits(self):
        return self.key.key_size

    @property
    def fingerprint(self):
        return public_key_fingerprint(self.key.public_key())


def repair_pem(text):
    """PEM text with the usual copy-and-paste damage undone.

    Each BEGIN/END block is rebuilt from its base64 body (whitespace dropped,
    lines of 64), keeping the Proc-Type / DEK-Info headers of a legacy
    encrypted key. Text without a BEGIN line is returned stripped, unchanged.
    """
    if not isinstance(text, str):
        raise KeyProblem("The key must be PEM text.")

    cleaned = text.replace("\\r\\n", "\n").replace("\\n", "\n")
    cleaned = cleaned.replace("\r\n", "\n").replace("\r", "\n").strip()
    cleaned = cleaned.strip("\"'").strip()

    blocks = []
    for match in _BLOCK.finditer(cleaned):
        label, body = match.group(1), match.group(2)
        headers = []
        body = body.strip()
        while True:
            header = _HEADER.match(body)
            if not header:
                break
            headers.append(f"{header.group(1)}: {header.group(2)}")
            body = body[header.end() :]
        data = re.sub(r"\s+", "", body)
        lines = [f"-----BEGIN {label}-----"]
        if headers:
            lines += headers + [""]
        lines += textwrap.wrap(data, 64) or []
        lines.append(f"-----END {label}-----")
        blocks.append("\n".join(lines) + "\n")

    if not blocks:
        return cleaned
    return "".join(blocks)


def _labels(pem):
    return [match.group(1) for match in _BLOCK.finditer(pem)]


def _kind_of(key):
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return "an EC (elliptic curve) key"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return "an Ed25519/Ed448 key"
    if isinstance(key, dsa.DSAPrivateKey):
        return "a DSA key"
    return f"a {type(key).__name__}"


def load_private_key(text, passphrase=""):
    """Repair and load an RSA private key (PKCS#1 or PKCS#8 PEM, plain or
    passphrase-protected). Raises KeyProblem with a sentence saying what to do.
    """
    pem = repair_pem(text)
    if not pem:
        raise KeyProblem("The private key is empty; paste the PEM text of the key.")

    labels = _labels(pem)
    if not labels:
        raise KeyProblem(
            "This is not a PEM key: it has no -----BEGIN PRIVATE KEY----- or "
            "-----BEGIN RSA PRIVATE KEY----- line. Paste the whole file, "
            "including the BEGIN and END lines."
        )
    if "CERTIFICATE" in labels and len(labels) == 1:
        raise KeyProblem(
            "This is a certificate, not a private key. Paste the certificate in "
            "the Certificate field, and the private key (the file starting with "
            "-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) here."
        )
    if len(labels) > 1:
        raise KeyProblem(
            f"The key field holds {len(labels)} PEM blocks "
            f"({', '.join(labels)}); paste only the private key here, and the "
            "certificate in the Certificate field."
        )
    label = labels[0]
    if label in ("PUBLIC KEY", "RSA PUBLIC KEY"):
        raise KeyProblem(
            "This is a public key. The connection signs with the private key: "
            "paste the file starting with -----BEGIN PRIVATE KEY----- or "
            "-----BEGIN RSA PRIVATE KEY-----."
        )
    if label == "EC PRIVATE KEY":
        raise KeyProblem(
            "This is an EC (elliptic curve) key. Salesforce signs JWT bearer "
            "tokens with RS256, which needs an RSA key: make one with "
            "`openssl genrsa -out server.key 2048`."
        )
    if label == "OPENSSH PRIVATE KEY":
        raise KeyProblem(
            "This is an OpenSSH key. Convert it to PEM with "
            "`ssh-keygen -p -m PEM -f FILE`, or make an RSA key with "
            "`openssl genrsa -out server.key 2048`."
        )
    if label not in ("PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        raise KeyProblem(
            f"The key field holds a {label} block, not a private key; paste the "
            "RSA private key (PKCS#1 or PKCS#8 PEM)."
        )

    encrypted = label == "ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED" in pem
    if encrypted and not passphrase:
        raise KeyProblem(
            "This key is protected by a passphrase; enter it in the passphrase "
            "field."
        )

    password = passphrase.encode() if encrypted else None
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=password)
    except ValueError:
        if encrypted:
            raise KeyProblem(
                "The passphrase does not open this key; check it, or paste the "
                "key without a passphrase."
            ) from None
        raise KeyProblem(
            "The key could not be read: its text is damaged or incomplete. "
            "Paste the whole file again, from the BEGIN line to the END line."
        ) from None
    except TypeError:
        raise KeyProblem(
            "The key could not be opened with the passphrase given."
        ) from None
    except UnsupportedAlgorithm:
        raise KeyProblem(
            "The key uses an algorithm or cipher this server cannot read; paste "
            "an RSA private key in PEM form."
        ) from None

    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyProblem(
            f"This is {_kind_of(key)}, not an RSA key. Salesforce signs JWT "
            "bearer tokens with RS256, which needs an RSA key: make one with "
            "`openssl genrsa -out server.key 2048`."
        )
    if key.key_size < MIN_KEY_BITS:
        raise KeyProblem(
            f"This RSA key has {key.key_size} bits; Salesforce needs at least "
            f"{MIN_KEY_BITS}. Make a new key and certificate."
        )

    return LoadedKey(key=key, pem=pem, encrypted=encrypted)


def load_certificate(text):
    """Repair and load an X.509 certificate in PEM. Raises KeyProblem."""
    pem = repair_pem(text)
    if not pem:
        raise KeyProblem("The certificate is empty; paste the PEM text.")

    labels = _labels(pem)
    if any("PRIVATE KEY" in label for label in labels):
        raise KeyProblem(
            "This is a private key, not a certificate. Never paste the private "
            "key here: paste the certificate (-----BEGIN CERTIFICATE-----) that "
            "was uploaded to the connected app."
        )
    if labels != ["CERTIFICATE"]:
        if not labels:
            raise KeyProblem(
                "This is not a PEM certificate: it has no -----BEGIN "
                "CERTIFICATE----- line."
            )
        raise KeyProblem(
            "Paste exactly one certificate (one -----BEGIN CERTIFICATE----- "
            "block), the one uploaded to the connected app."
        )

    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise KeyProblem(
            "The certificate could not be read: its text is damaged or "
            "incomplete. Paste the whole file again, from the BEGIN line to the "
            "END line."
        ) from None
    return certificate, pem


def certificate_expires_at(certificate):
    return certificate.not_valid_after_utc


def check_pair(key, certificate):
    """Raise KeyProblem unless the private key made this certificate's key."""
    public = certificate.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise KeyProblem(
            f"The certificate holds {_kind_of(public)}, not an RSA key; "
            "Salesforce needs an RSA certificate for RS256."
        )
    if public.public_numbers() != key.public_key().public_numbers():
        raise KeyProblem(
            "The private key and the certificate do not belong together, so "
            "Salesforce would refuse every token. Paste the certificate made "
            "from this key (the one uploaded to the connected app), or the key "
            "that made it."
        )


def public_key_fingerprint(public_key):
    """A short SHA-256 fingerprint of a public key, safe to show."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _short(hashlib.sha256(der).hexdigest())


def certificate_fingerprint(certificate):
    """SHA-256 of the certificate, as `openssl x509 -fingerprint -sha256`
    prints it (colon-separated, upper case)."""
    digest = certificate.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def secret_fingerprint(value):
    """The first 8 hex characters of the secret's SHA-256: enough to tell two
    secrets apart on screen, far too little to recover one."""
    if not value:
        return ""
    return _short(hashlib.sha256(value.encode()).hexdigest())


def _short(hexdigest):
    return ":".join(hexdigest[i : i + 2] for i in range(0, 8, 2))


def private_key_text(connection, *, environment_key=None):
    """The PEM text of the key, from where the settings say it lives.

    Raises ConfigurationError naming the place that is empty or unreadable,
    never the key.
    """
    source = connection.private_key_source
    if source == "environment":
        if environment_key is None:
            from django.conf import settings

            environment_key = settings.TRACTION_REC_PRIVATE_KEY
        if not environment_key:
            raise ConfigurationError(
                "The private key should come from the environment, but "
                "TRACTION_REC_PRIVATE_KEY (or TRACTION_REC_PRIVATE_KEY_FILE) is "
                "not set.",
                hint="Set it for every process (web and worker), or store the "
                "key in the connection settings.",
            )
        return environment_key
    if source == "file":
        path = (connection.private_key_path or "").strip()
        if not path:
            raise ConfigurationError(
                "The private key should come from a file, but no file is set.",
                hint="Enter the key file's full path in the connection settings.",
            )
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ConfigurationError(
                f"The private key file {path} cannot be read ({exc.strerror}).",
                hint="Check the path and that the web and worker users may read it.",
            ) from None
        except UnicodeDecodeError:
            raise ConfigurationError(
                f"The private key file {path} is not PEM text (it may be DER).",
                hint="Convert it with `openssl pkey -in FILE -out key.pem`.",
            ) from None
    if not connection.private_key:
        raise ConfigurationError(
            "No private key is stored in the connection settings.",
            hint="Paste the RSA private key in the Traction Rec connection page.",
        )
    return connection.private_key


def signing_key(connection, *, environment_key=None):
    """The loaded RSA key for the connection, or ConfigurationError."""
    text = private_key_text(connection, environment_key=environment_key)
    try:
        return load_private_key(text, connection.private_key_passphrase or "")
    except KeyProblem as exc:
        raise ConfigurationError(
            f"The private key ({connection.private_key_source}) cannot be used: {exc}",
            hint="Fix the key in the Traction Rec connection page.",
        ) from None


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def is_expired(expires_at, *, now=None):
    return expires_at is not None and expires_at <= (now or utcnow())

