"""The one module that talks to Salesforce.

OAuth 2.0 JWT bearer flow: an RS256 assertion signed with the connected app's
key is exchanged for an access token and the org's `instance_url`, which is
then the host of every API call. The token is cached in the Django cache so
the web and worker processes share it. Every request has connect and read
timeouts and never follows a redirect: a redirect on an API call means the
host is wrong (a lightning host, an http URL), not that data moved.

Retries are for what can pass: connection errors, timeouts, a 2xx whose
JSON arrived cut short or damaged, 503 / SERVER_UNAVAILABLE and the
concurrent-request form of REQUEST_LIMIT_EXCEEDED, with capped exponential
backoff and jitter. A 401 INVALID_SESSION_ID gets one
new token and one repeat of the same request. Everything else becomes a typed
error from traction_rec.errors at once.

Nothing secret reaches a log line or an exception message: not the key, the
assertion, the token or the consumer secret.
"""

import datetime as dt
import functools
import hashlib
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import requests
from django.core.cache import cache as default_cache

from traction_rec import keys
from traction_rec.errors import (
    AuthenticationError,
    ConfigurationError,
    LimitError,
    QueryError,
    TractionRecError,
    TransientError,
)

logger = logging.getLogger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 180  # seconds; Salesforce accepts at most 3 minutes
CONNECT_TIMEOUT = 10
# The token response carries no expiry. Salesforce sessions last at least 15
# minutes of inactivity (the shortest org setting); a token older than that
# is refreshed on its first 401 anyway, so this only bounds the cache size.
TOKEN_CACHE_SECONDS = 15 * 60
MAX_ATTEMPTS = 4
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
MESSAGE_LIMIT = 500

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_RETRYABLE_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def parse_limit_info(header):
    """`api-usage=18/15000` -> (18, 15000); None when absent or unreadable."""
    match = _LIMIT_INFO.search(header or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_secure(url):
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def _clip(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


# What to change for each token error Salesforce sends, matched on the
# error and a part of its description.
TOKEN_HINTS = (
    (
        "invalid_grant",
        "user hasn't approved this consumer",
        "In Salesforce Setup, open the connected app (Manage Connected Apps), set "
        "Permitted Users to 'Admin approved users are pre-authorized' and add "
        "the integration user's profile or permission set.",
    ),
    (
        "invalid_app_access",
        "",
        "Pre-authorise the integration user for the connected app: add their "
        "profile or permission set under the app's Manage > Profiles / "
        "Permission Sets.",
    ),
    (
        "invalid_grant",
        "audience is invalid",
        "The audience does not match the org: a sandbox needs "
        "https://test.salesforce.com, production https://login.salesforce.com. "
        "Clear the Audience field to derive it, or set it.",
    ),
    (
        "invalid_grant",
        "expired",
        "The assertion arrived expired: check that this server's clock is "
        "correct (NTP).",
    ),
    (
        "invalid_grant",
        "invalid assertion",
        "Salesforce could not verify the signature: upload the certificate "
        "that belongs to this private key to the connected app, and check the "
        "consumer key is that app's.",
    ),
    (
        "invalid_grant",
        "user",
        "Check the login user: it is the Salesforce username of an active "
        "user of this org (sandbox usernames end in .sandboxname).",
    ),
    (
        "invalid_client_id",
        "",
        "The consumer key is not a connected app of this org: copy the "
        "Consumer Key from the app's Manage Consumer Details, and check the "
        "login URL is this org's (sandbox or production).",
    ),
    (
        "invalid_client",
        "",
        "The connected app refused the client: copy the Consumer Key again "
        "from the app's Manage Consumer Details.",
    ),
    (
        "unsupported_grant_type",
        "",
        "The login URL does not accept the JWT bearer grant: use "
        "https://login.salesforce.com, https://test.salesforce.com or the org's "
        "My Domain.",
    ),
)

# What to change for API errors, by Salesforce errorCode.
API_HINTS = {
    "MALFORMED_QUERY": "The SOQL is not valid; check TRACTION_REC_QUERY_OVERRIDES.",
    "INVALID_FIELD": (
        "A field in the query does not exist or the integration user cannot "
        "see it: check the Traction Rec package version, the field-level "
        "security of the user's permission set, and TRACTION_REC_QUERY_OVERRIDES."
    ),
    "INVALID_TYPE": (
        "An object in the query is not visible to the integration user: give "
        "the permission set read access to the Traction Rec objects."
    ),
    "INVALID_QUERY_LOCATOR": (
        "The query's cursor expired or was dropped before its next page was "
        "read; run the fetch again."
    ),
    "API_DISABLED_FOR_ORG": "Turn on API access for the org (an edition with API).",
    "API_CURRENTLY_DISABLED": (
        "Give the integration user's profile or permission set 'API Enabled'."
    ),
    "INSUFFICIENT_ACCESS": "Give the integration user's permission set read access.",
    "NOT_FOUND": "Check the API version (for example v62.0) and the base URL.",
}


@dataclass
class Page:
    records: list
    number: int
    total_size: int
    done: bool
    next_records_url: str | None


@dataclass(frozen=True)
class Body:
    """A response's body, read and decoded once.

    `data` is the decoded JSON, or None when the body is empty, HTML, or
    not JSON. `damaged` says the body was announced as JSON (and is no HTML
    page) but does not decode: cut short or garbled on the way."""

    text: str
    content_type: str
    data: object = None
    damaged: bool = False

    @classmethod
    def read(cls, response):
        text = response.text or ""
        content_type = response.headers.get("Content-Type", "").lower()
        stripped = text.strip()
        if not stripped or "html" in content_type or stripped.startswith("<"):
            return cls(text, content_type)
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        damaged = data is None and "json" in content_type
        return cls(text, content_type, data, damaged)

    def describe(self):
        text = self.text.strip()
        if not text:
            return "an empty body"
        if "html" in self.content_type or text.startswith("<"):
            return "an HTML page"
        return "text that is not JSON"

    def errors(self):
        """Salesforce's (errorCode, message) pairs, from a list or one object."""
        body = self.data
        if isinstance(body, list):
            return [
                (str(item.get("errorCode", "")), str(item.get("message", "")))
                for item in body
                if isinstance(item, dict)
            ]
        if isinstance(body, dict) and ("errorCode" in body or "message" in body):
            return [(str(body.get("errorCode", "")), str(body.get("message", "")))]
        return []


@dataclass
class Token:
    access_token: str
    instance_url: str

    def __repr__(self):
        return f"<Token instance_url={self.instance_url!r}>"


class TractionRecClient:
    def __init__(
        self,
        *,
        consumer_key,
        login_user,
        login_url,
        audience,
        private_key,
        api_version="v62.0",
        timeout=90,
        connect_timeout=CONNECT_TIMEOUT,
        session=None,
        cache=None,
        clock=utcnow,
        sleep=time.sleep,
        max_attempts=MAX_ATTEMPTS,
        backoff_base=BACKOFF_BASE,
        backoff_cap=BACKOFF_CAP,
        rng=None,
    ):
        self.consumer_key = consumer_key
        self.login_user = login_user
        self.login_url = login_url.rstrip("/")
        self.audience = audience
        self._private_key = private_key
        self.api_version = api_version
        self.timeout = (min(connect_timeout, timeout), timeout)
        self.session = session or requests.Session()
        self.cache = default_cache if cache is None else cache
        self.clock = clock
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng or random.Random()
        self.limit_info = None
        self._token = None

    def __repr__(self):
        return (
            f"<TractionRecClient login_url={self.login_url!r} "
            f"user={self.login_user!r}>"
        )

    @classmethod
    def from_settings(cls, connection=None, **kwargs):
        """A client for the saved connection (ConnectionSettings.load())."""
        from traction_rec.models import ConnectionSettings

        connection = connection or ConnectionSettings.load()
        missing = [
            label
            for label, value in (
                ("consumer key", connection.consumer_key),
                ("login user", connection.login_user),
                ("login URL", connection.login_url),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(
                f"The Traction Rec connection is not set up: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} empty.",
                hint="Fill them in on the Traction Rec connection page in the admin.",
            )
        if not _is_secure(connection.login_url):
            raise ConfigurationError(
                f"The login URL {connection.login_url} is not https.",
                hint="Use https://login.salesforce.com, https://test.salesforce.com "
                "or the org's https My Domain.",
            )

        loaded = keys.signing_key(connection)
        return cls(
            consumer_key=connection.consumer_key,
            login_user=connection.login_user,
            login_url=connection.login_url,
            audience=connection.effective_audience,
            private_key=loaded.key,
            api_version=connection.api_version,
            timeout=connection.timeout,
            **kwargs,
        )

    # The token

    @property
    def token_url(self):
        return self.login_url + "/services/oauth2/token"

    @functools.cached_property
    def cache_key(self):
        """Changes whenever any setting that shapes the token changes.

        Computed once: a client's settings never change under it, and the
        key's fingerprint is the costly part of every token() call."""
        material = "\n".join(
            [
                self.token_url,
                self.consumer_key,
                self.login_user,
                self.audience,
                keys.public_key_fingerprint(self._private_key.public_key()),
            ]
        )
        digest = hashlib.sha256(material.encode()).hexdigest()
        return "traction_rec:token:" + digest[:32]

    def assertion_claims(self):
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("The client's clock must return an aware datetime.")
        return {
            "iss": self.consumer_key,
            "sub": self.login_user,
            "aud": self.audience,
            "exp": int(now.timestamp()) + ASSERTION_LIFETIME,
        }

    def assertion(self):
        return jwt.encode(self.assertion_claims(), self._private_key, algorithm="RS256")

    def token(self, *, refresh=False):
        """The access token and instance URL, from the cache unless refresh."""
        if not refresh and self._token:
            return self._token
        if not refresh:
            cached = self.cache.get(self.cache_key)
            if cached:
                self._token = Token(**cached)
                return self._token

        self._token = self._request_token()
        self.cache.set(
            self.cache_key,
            {
                "access_token": self._token.access_token,
                "instance_url": self._token.instance_url,
            },
            TOKEN_CACHE_SECONDS,
        )
        return self._token

    def _request_token(self):
        started = time.monotonic()
        response, body = self._with_retries(
            lambda: self.session.post(
                self.token_url,
                data={"grant_type": JWT_GRANT, "assertion": self.assertion()},
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            ),
            what="the token request",
        )
        logger.info(
            "Token request: status %s in %.0f ms",
            response.status_code,
            (time.monotonic() - started) * 1000,
        )

        if response.is_redirect:
            raise ConfigurationError(
                f"The login URL {self.login_url} answered the token request with a "
                f"redirect (status {response.status_code}) to "
                f"{_location_host(response)}.",
                status=response.status_code,
                hint="Set the login URL to https://login.salesforce.com, "
                "https://test.salesforce.com or the org's https My Domain "
                "(NAME.my.salesforce.com), not a lightning or custom host.",
            )
        if response.status_code >= 500:
            raise TransientError(
                f"The token request failed with status {response.status_code}.",
                status=response.status_code,
                hint="Salesforce may be down for maintenance; try again later.",
            )
        read = body
        body = read.data
        if body is None:
            raise ConfigurationError(
                f"The login URL {self.login_url} answered the token request with "
                f"{read.describe()} (status {response.status_code}), not "
                "Salesforce's JSON.",
                status=response.status_code,
                hint="Check the login URL: it is the Salesforce login host, "
                "without a path.",
            )
        if response.status_code != 200 or "access_token" not in body:
            error = str(body.get("error", "")) if isinstance(body, dict) else ""
            description = (
                str(body.get("error_description", "")) if isinstance(body, dict) else ""
            )
            raise AuthenticationError(
                f"Salesforce refused the token: {error or 'no token'}"
                + (f" ({_clip(description)})" if description else "")
                + ".",
                status=response.status_code,
                error_code=error,
                hint=_token_hint(error, description),
            )

        instance_url = str(body.get("instance_url") or "").rstrip("/")
        if not instance_url:
            raise AuthenticationError(
                "The token response has no instance_url, so there is no API host.",
                status=response.status_code,
                hint="Check the login URL is a Salesforce login host.",
            )
        if not _is_secure(instance_url):
            raise ConfigurationError(
                f"The token response names the API host {instance_url}, which is "
                "not https.",
                hint="Check the login URL is the org's own Salesforce host.",
            )
        return Token(access_token=str(body["access_token"]), instance_url=instance_url)

    # Requests

    def _with_retries(self, send, *, what, retry_damaged=False):
        """Call send() until it gives a response that is not worth repeating,
        sleeping with capped exponential backoff and full jitter in between.

        Returns the response and its Body, read once here. With
        retry_damaged, a 2xx whose JSON is cut short or garbled is repeated
        like a dropped connection; the last one is returned for _decode to
        raise TransientError."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = send()
            except _RETRYABLE_EXCEPTIONS as exc:
                if attempt >= self.max_attempts:
                    timed_out = isinstance(exc, requests.Timeout)
                    kind = "timed out" if timed_out else "failed"
                    raise TransientError(
                        f"{_sentence(what)} {kind} {attempt} times "
                        f"({type(exc).__name__}).",
                        hint="Check that this server can reach Salesforce; try "
                        "again later.",
                    ) from None
                reason = type(exc).__name__
                retry_after = None
            else:
                self._note_limit_info(response)
                body = Body.read(response)
                reason = _retry_reason(response, body)
                if reason is None and retry_damaged and _is_damaged(response, body):
                    reason = "damaged JSON"
                if reason is None or attempt >= self.max_attempts:
                    return response, body
                retry_after = _retry_after(response)

            delay = self._backoff(attempt, retry_after)
            logger.warning(
                "%s: %s, attempt %s of %s; retrying in %.1f s",
                _sentence(what),
                reason,
                attempt,
                self.max_attempts,
                delay,
            )
            self.sleep(delay)

    def _backoff(self, attempt, retry_after=None):
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        delay = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_cap))
        return delay

    def _note_limit_info(self, response):
        info = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if info:
            self.limit_info = info

    def request(self, method, path_or_url, *, params=None, headers=None):
        """One API call, authorised, returning the decoded JSON body.

        `path_or_url` is a path on the instance host (`/services/data/`) or a
        URL on it. The same request, headers included, is repeated once with
        a new token after a 401 INVALID_SESSION_ID.
        """
        headers = dict(headers or {})
        headers.setdefault("Accept", "application/json")
        refreshed = False

        while True:
            token = self.token(refresh=False)
            url = self._resolve(path_or_url, token.instance_url)
            started = time.monotonic()
            authorised = {**headers, "Authorization": f"Bearer {token.access_token}"}
            response, body = self._with_retries(
                lambda: self.session.request(
                    method,
                    url,
                    params=params,
                    headers=authorised,
                    timeout=self.timeout,
                    allow_redirects=False,
                ),
                what=f"{method} {urlsplit(url).path}",
                retry_damaged=True,
            )
            logger.info(
                "%s %s: status %s in %.0f ms",
                method,
                urlsplit(url).path,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )

            if response.status_code == 401 and not refreshed:
                codes = [code for code, _ in body.errors()]
                if not codes or "INVALID_SESSION_ID" in codes:
                    logger.info("Session expired or revoked; requesting a new token")
                    self._drop_token()
                    self.token(refresh=True)
                    refreshed = True
                    continue
            return self._decode(response, body, url, refreshed=refreshed)

    def _drop_token(self):
        self._token = None
        self.cache.delete(self.cache_key)

    def _resolve(self, path_or_url, instance_url):
        """An absolute URL on the instance host. A URL on another host is
        refused: the token must never be sent anywhere else."""
        parts = urlsplit(path_or_url)
        if parts.scheme or parts.netloc:
            if origin(path_or_url) != origin(instance_url):
                raise ConfigurationError(
                    f"Refusing to send the token to {parts.netloc}: the API host is "
                    f"{urlsplit(instance_url).netloc}.",
                )
            return path_or_url
        path = path_or_url if path_or_url.startswith("/") else "/" + path_or_url
        return origin(instance_url) + path

    def _decode(self, response, read, url, *, refreshed):
        status = response.status_code
        host = urlsplit(url).netloc

        if response.is_redirect or 300 <= status < 400:
            target = _location_host(response)
            hint = (
                "Use the org's https://NAME.my.salesforce.com host, not the "
                "lightning.force.com host: it redirects, and API calls then fail "
                "with INVALID_SESSION_ID."
                if target.endswith(".lightning.force.com") or host.endswith(
                    ".lightning.force.com"
                )
                else "Set the API base URL to the org's https My Domain host "
                "(NAME.my.salesforce.com)."
            )
            raise ConfigurationError(
                f"The API host {host} answered with a redirect (status {status}) "
                f"to {target}; an API call must not be redirected.",
                status=status,
                hint=hint,
            )

        if 200 <= status < 300:
            if not read.text.strip():
                raise ConfigurationError(
                    f"The API host {host} answered with an empty body (status "
                    f"{status}); that is not a Salesforce API answer.",
                    status=status,
                    hint="Check the API base URL and the API version.",
                )
            body = read.data
            if _is_damaged(response, read):
                # Salesforce's JSON, cut short or garbled on the way: a dropped
                # connection, not a wrong setting.
                raise TransientError(
                    f"The API host {host} sent JSON that could not be read (status "
                    f"{status}); the answer was cut short or damaged on the way.",
                    status=status,
                    hint="Run the fetch again; if it keeps happening, check the "
                    "network between this server and Salesforce.",
                )
            if body is None:
                raise ConfigurationError(
                    f"The API host {host} answered with {read.describe()} "
                    f"(status {status}), not Salesforce's JSON.",
                    status=status,
                    hint="Check the API base URL is the org's My Domain host "
                    "(NAME.my.salesforce.com) and the API version exists.",
                )
            return body

        errors = read.errors()
        code, message = errors[0] if errors else ("", "")
        if not errors and read.data is None:
            described = read.describe()
            if status >= 500:
                raise TransientError(
                    f"The API host {host} failed with status {status} ({described}).",
                    status=status,
                    hint="Salesforce may be down for maintenance; try again later.",
                )
            raise ConfigurationError(
                f"The API host {host} answered with {described} (status {status}), "
                "not Salesforce's JSON.",
                status=status,
                hint="Check the API base URL is the org's My Domain host.",
            )

        text = f"Salesforce answered {status} {code}: {_clip(message)}".rstrip(": ")
        if not text.endswith("."):
            text += "."

        if status == 401:
            raise AuthenticationError(
                text,
                status=status,
                error_code=code,
                hint="A new token was refused as well: check that the integration "
                "user is active and its session is not revoked, and that the API "
                "host is not a lightning host."
                if refreshed
                else "Request a new token.",
            )
        if code == "REQUEST_LIMIT_EXCEEDED":
            concurrent = _is_concurrent_limit(message)
            raise LimitError(
                text,
                status=status,
                error_code=code,
                retryable=concurrent,
                hint="Too many long requests run at once in the org; try again in "
                "a few minutes."
                if concurrent
                else "The org's daily API request limit is used up; it resets "
                "over 24 hours. Run fewer fetches, or ask Salesforce for more.",
            )
        if status == 503 or code == "SERVER_UNAVAILABLE" or status >= 500:
            raise TransientError(
                text,
                status=status,
                error_code=code,
                hint="Salesforce may be down for maintenance; try again later.",
            )
        if code == "INVALID_QUERY_LOCATOR":
            raise QueryError(
                text,
                status=status,
                error_code=code,
                retryable=True,
                hint=API_HINTS[code],
            )
        if code in ("MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"):
            raise QueryError(text, status=status, error_code=code, hint=API_HINTS[code])
        if status in (403, 404):
            raise ConfigurationError(
                text, status=status, error_code=code, hint=API_HINTS.get(code, "")
            )
        raise QueryError(
            text, status=status, error_code=code, hint=API_HINTS.get(code, "")
        )

    # The API

    @property
    def data_path(self):
        return f"/services/data/{self.api_version}"

    def versions(self):
        """The API versions the org offers, as Salesforce lists them."""
        return self.request("GET", "/services/data/")

    def pages(self, soql, batch_size=None):
        """The query's pages, following nextRecordsUrl until done.

        Only one page is held at a time. A page that says more follow but
        gives no next URL raises QueryError instead of ending quietly.
        """
        headers = {}
        if batch_size is not None:
            whole = isinstance(batch_size, int) and not isinstance(batch_size, bool)
            if not whole or batch_size < 1:
                raise ValueError("batch_size is a whole number of records, at least 1.")
            headers["Sforce-Query-Options"] = f"batchSize={batch_size}"

        sobject = _from_object(soql)
        started = time.monotonic()
        body = self.request(
            "GET", f"{self.data_path}/query/", params={"q": soql}, headers=headers
        )
        number = 0
        records = 0
        while True:
            number += 1
            page = _page(body, number, sobject)
            records += len(page.records)
            yield page
            if page.done:
                break
            body = self.request("GET", page.next_records_url, headers=headers)

        used, allowed = self.limit_info or (None, None)
        logger.info(
            "Query on %s: %s records in %s pages, %.1f s, API usage %s/%s",
            sobject,
            records,
            number,
            time.monotonic() - started,
            used,
            allowed,
        )

    def query(self, soql, batch_size=None):
        """The query's records, raw as Salesforce sends them, page by page."""
        for page in self.pages(soql, batch_size=batch_size):
            yield from page.records

    def probe(self, url):
        """A GET of `url` that follows no redirect and sends no token: the
        `curl -I` check of a base URL. Returns (status, location)."""
        try:
            response = self.session.get(
                url, timeout=self.timeout, allow_redirects=False, stream=True
            )
        except _RETRYABLE_EXCEPTIONS as exc:
            raise TransientError(
                f"{urlsplit(url).netloc} could not be reached ({type(exc).__name__}).",
                hint="Check the URL and that this server can reach it.",
            ) from None
        # Only the status line and headers matter; the body is never read.
        response.close()
        return response.status_code, response.headers.get("Location", "")

    def log_usage(self):
        if self.limit_info:
            logger.info("API usage: %s of %s requests", *self.limit_info)


def _page(body, number, sobject):
    if not isinstance(body, dict) or "records" not in body or "done" not in body:
        raise QueryError(
            f"Page {number} of the {sobject} query is not a query result (no "
            "records or done).",
            hint="Check the API base URL and version.",
        )
    done = bool(body["done"])
    next_url = body.get("nextRecordsUrl") or None
    if not done and not next_url:
        raise QueryError(
            f"Page {number} of the {sobject} query says more records follow but "
            "gives no nextRecordsUrl; the result would be incomplete.",
            retryable=True,
            hint="Run the fetch again.",
        )
    records = body["records"]
    if not isinstance(records, list):
        raise QueryError(f"Page {number} of the {sobject} query has no record list.")
    return Page(
        records=records,
        number=number,
        total_size=int(body.get("totalSize") or 0),
        done=done,
        next_records_url=next_url,
    )


def _sentence(text):
    return text[:1].upper() + text[1:]


def _from_object(soql):
    match = re.search(r"\bFROM\s+([A-Za-z0-9_]+)", soql, re.IGNORECASE)
    return match.group(1) if match else "?"


def _retry_reason(response, body):
    """Why a response is worth repeating, or None."""
    if response.status_code == 503:
        return "503 Service Unavailable"
    if response.status_code == 403 or response.status_code >= 500:
        items = body.data if isinstance(body.data, list) else [body.data]
        for item in items:
            if not isinstance(item, dict):
                continue
            code = item.get("errorCode")
            if code == "SERVER_UNAVAILABLE":
                return "SERVER_UNAVAILABLE"
            if code == "REQUEST_LIMIT_EXCEEDED" and _is_concurrent_limit(
                str(item.get("message", ""))
            ):
                return "concurrent request limit"
    return None


def _is_damaged(response, body):
    return 200 <= response.status_code < 300 and body.damaged


def _is_concurrent_limit(message):
    """Salesforce words the concurrent long-request limit as
    `ConcurrentPerOrgLongTxn Limit exceeded` and the daily one as
    `TotalRequests Limit exceeded`; only the first passes by waiting."""
    text = message.lower()
    return "concurrent" in text and "totalrequests" not in text


def _retry_after(response):
    value = response.headers.get("Retry-After", "")
    try:
        return float(value)
    except ValueError:
        return None


def _location_host(response):
    location = response.headers.get("Location", "")
    parts = urlsplit(location)
    return parts.netloc or location or "no Location"


def _token_hint(error, description):
    lowered = description.lower()
    for code, fragment, hint in TOKEN_HINTS:
        if error == code and fragment in lowered:
            return hint
    return "Check the consumer key, login user, login URL and the key and certificate."


__all__ = [
    "Page",
    "TractionRecClient",
    "TractionRecError",
    "parse_limit_info",
]
