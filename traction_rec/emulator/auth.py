"""The OAuth 2.0 JWT bearer grant of the local org, and its access tokens.

Checks, in the order a connected app can make them: the grant type; an
assertion that decodes; `iss` names the connected app (its consumer key);
the RS256 signature verifies with the app's certificate; `aud` is the
configured audience; `exp` has not passed; `sub` is the integration user.
A `sub` naming another user is answered "invalid assertion" (the local org
knows one user). The certificate's own validity dates are not checked.
"""

import secrets
import threading
import time

import jwt
from cryptography import x509

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ORG_ID = "00D5e000000YMCAEAW"
USER_ID = "0055e000001INTGAAO"


class GrantError(Exception):
    """A refused grant, as Salesforce words it (400, error + description)."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error = error
        self.description = description


def load_certificate(pem):
    """The public key of a PEM X.509 certificate; ValueError if it is not one."""
    if isinstance(pem, str):
        pem = pem.encode()
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise ValueError(
            "The certificate is not a PEM X.509 certificate (-----BEGIN "
            "CERTIFICATE-----)."
        ) from None
    return certificate.public_key()


class Authority:
    """Verifies assertions and keeps the tokens it issued."""

    def __init__(self, *, certificate_pem, consumer_key, username, audience):
        self.public_key = load_certificate(certificate_pem)
        self.consumer_key = consumer_key
        self.username = username
        self.audiences = [audience] if isinstance(audience, str) else list(audience)
        self._lock = threading.Lock()
        self._tokens = set()
        self.issued = 0

    def grant(self, grant_type, assertion, *, instance_url):
        if grant_type != JWT_BEARER:
            raise GrantError("unsupported_grant_type", "grant type not supported")
        if not assertion:
            raise GrantError("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            raise GrantError("invalid_grant", "invalid assertion") from None
        if claims.get("iss") != self.consumer_key:
            raise GrantError("invalid_client_id", "client identifier invalid")
        if header.get("alg") != "RS256":
            raise GrantError("invalid_grant", "invalid assertion")
        try:
            jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False},
            )
        except jwt.InvalidTokenError:
            raise GrantError("invalid_grant", "invalid assertion") from None
        if claims.get("aud") not in self.audiences:
            raise GrantError("invalid_grant", "audience is invalid")
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= time.time():
            raise GrantError("invalid_grant", "expired authorization code")
        if claims.get("sub") != self.username:
            raise GrantError("invalid_grant", "invalid assertion")

        token = f"{ORG_ID}!{secrets.token_urlsafe(72)}"
        with self._lock:
            self._tokens.add(token)
            self.issued += 1
        return {
            "access_token": token,
            "scope": "api",
            "instance_url": instance_url,
            "id": f"{instance_url}/id/{ORG_ID}/{USER_ID}",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
        }

    def valid(self, token):
        with self._lock:
            return token in self._tokens

    def revoke_all(self):
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count
