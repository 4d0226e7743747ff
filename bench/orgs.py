"""The local org the benchmarks fetch from, its key pair and an access token."""

import contextlib
import time
from pathlib import Path

import jwt
import requests

CONSUMER_KEY = "bench-consumer-key"
USERNAME = "integration@ymca-bench.example"
AUDIENCE = "https://login.salesforce.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def write_key_pair(directory):
    """A throw-away key and certificate, written as files only the children
    read, so no secret goes on a command line."""
    from traction_rec.emulator.selfsigned import make_key_pair

    key_pem, cert_pem = make_key_pair(common_name="ymca-bench")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / "bench-key.pem", directory / "bench-cert.pem"
    key_path.write_text(key_pem)
    key_path.chmod(0o600)
    cert_path.write_text(cert_pem)
    return key_path, cert_path


@contextlib.contextmanager
def serving(org_dir, cert_path):
    from traction_rec.emulator.testing import running_org

    with running_org(
        org_dir,
        certificate_pem=Path(cert_path).read_text(),
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        audience=AUDIENCE,
    ) as org:
        yield org


def access_token(org_url, key_path, token_path):
    """Get a token by the JWT bearer grant, for the baselines, which have no
    login flow of their own here; write it to token_path."""
    assertion = jwt.encode(
        {"iss": CONSUMER_KEY, "sub": USERNAME, "aud": AUDIENCE, "exp": int(time.time()) + 600},
        Path(key_path).read_text(),
        algorithm="RS256",
    )
    response = requests.post(
        f"{org_url}/services/oauth2/token",
        data={"grant_type": JWT_BEARER, "assertion": assertion},
        timeout=30,
    )
    response.raise_for_status()
    Path(token_path).write_text(response.json()["access_token"])
    Path(token_path).chmod(0o600)
    return token_path
