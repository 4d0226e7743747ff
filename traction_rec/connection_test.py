"""The connection test behind the admin button and `manage.py tr_check`.

It runs what the fetch needs, in order: the settings and key, the
certificate, a token request, the version listing, a one-row query for
each of the site's Traction Rec queries, and a no-redirect request to each
base URL (the Drupal README's `curl -I` advice). Each step reports ok, or
Salesforce's own error and what to change.
"""

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from traction_rec import keys, queries
from traction_rec.client import TractionRecClient
from traction_rec.errors import TractionRecError
from traction_rec.models import ConnectionSettings
from traction_rec.signals import connection_tested

logger = logging.getLogger(__name__)

EXPIRY_WARNING_DAYS = 30


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    hint: str = ""


def _failed(name, error):
    return Step(name, False, error.message, error.hint)


def _certificate_step(connection, now):
    if not connection.certificate:
        return Step(
            "Certificate",
            True,
            "No certificate is stored, so its expiry is not tracked.",
            "Paste the certificate uploaded to the connected app to be warned "
            "before it expires.",
        )
    try:
        certificate, _ = keys.load_certificate(connection.certificate)
    except keys.KeyProblem as exc:
        return Step("Certificate", False, str(exc), "Paste the certificate again.")

    expires_at = keys.certificate_expires_at(certificate)
    if expires_at <= now:
        return Step(
            "Certificate",
            False,
            f"The certificate expired on {expires_at:%Y-%m-%d}.",
            "Make a new key and certificate, upload the certificate to the "
            "connected app, and paste both in the connection settings.",
        )
    try:
        loaded = keys.signing_key(connection)
        keys.check_pair(loaded.key, certificate)
    except keys.KeyProblem as exc:
        return Step("Certificate", False, str(exc))
    except TractionRecError:
        pass  # the settings step already reported the key

    days = (expires_at - now).days
    if days < EXPIRY_WARNING_DAYS:
        return Step(
            "Certificate",
            True,
            f"Valid, but expires in {days} days, on {expires_at:%Y-%m-%d}.",
            "Renew it now: make a new key and certificate and upload the "
            "certificate to the connected app.",
        )
    return Step(
        "Certificate",
        True,
        f"Valid until {expires_at:%Y-%m-%d} and matches the private key.",
    )


def _probe_step(client, label, url, instance_url):
    if not url:
        return Step(label, True, "Not set; the API calls use the token's instance URL.")
    try:
        status, location = client.probe(url.rstrip("/") + "/services/data/")
    except TractionRecError as exc:
        return _failed(label, exc)

    if 300 <= status < 400:
        target = urlsplit(location).netloc or location or "no Location"
        hint = (
            "Use the org's https://NAME.my.salesforce.com host: the lightning "
            "host redirects, and API calls then fail with INVALID_SESSION_ID."
            if target.endswith(".lightning.force.com")
            or urlsplit(url).netloc.endswith(".lightning.force.com")
            else "Use the host the API answers on directly, the org's My Domain "
            "(NAME.my.salesforce.com)."
        )
        detail = f"{url} redirects (status {status}) to {target}."
        return Step(label, False, detail, hint)
    if status >= 500:
        detail = f"{url} failed with status {status}."
        return Step(label, False, detail, "Try again later.")

    detail = f"{url} answers without a redirect (status {status})."
    if instance_url and urlsplit(url).netloc != urlsplit(instance_url).netloc:
        return Step(
            label,
            True,
            detail + f" The token names another API host, {instance_url}; the "
            "API calls use that one.",
            f"Set it to {instance_url} to match.",
        )
    return Step(label, True, detail)


def run(settings=None, *, client=None, now=None):
    """Run every step and return them; steps after a failed token request
    are skipped, because each would fail the same way."""
    connection = settings or ConnectionSettings.load()
    now = now or timezone.now()
    steps = []

    try:
        client = client or TractionRecClient.from_settings(connection)
    except TractionRecError as exc:
        steps.append(_failed("Settings and private key", exc))
    else:
        steps.append(
            Step(
                "Settings and private key",
                True,
                f"Complete; the key loads ({connection.private_key_source}).",
            )
        )
    steps.append(_certificate_step(connection, now))

    if client is not None:
        try:
            token = client.token(refresh=True)
        except TractionRecError as exc:
            steps.append(_failed("Token request", exc))
        else:
            steps.append(
                Step(
                    "Token request",
                    True,
                    f"Salesforce issued a token; the API host is {token.instance_url}.",
                )
            )
            steps += _api_steps(client, connection, token)

    ok = all(step.ok for step in steps)
    logger.info(
        "Connection test: %s of %s steps passed", sum(s.ok for s in steps), len(steps)
    )
    connection_tested.send(sender=None, ok=ok)
    return steps


def _api_steps(client, connection, token):
    steps = []
    try:
        versions = client.versions()
    except TractionRecError as exc:
        steps.append(_failed("API versions", exc))
        return steps

    items = versions if isinstance(versions, list) else []
    offered = [f"v{item.get('version')}" for item in items if isinstance(item, dict)]
    if offered and client.api_version not in offered:
        steps.append(
            Step(
                "API versions",
                False,
                f"The org does not offer {client.api_version}; it offers "
                f"{offered[0]} to {offered[-1]}.",
                f"Set the API version to {offered[-1]}.",
            )
        )
        return steps
    steps.append(Step("API versions", True, f"{client.api_version} is offered."))

    for name in queries.names():
        label = f"Query {name}"
        try:
            query = queries.get(name)
            page = next(client.pages(query.soql(limit=1)))
        except TractionRecError as exc:
            steps.append(_failed(label, exc))
            continue
        except (ValueError, ImproperlyConfigured) as exc:  # a broken override
            steps.append(
                Step(label, False, str(exc), "Fix TRACTION_REC_QUERY_OVERRIDES.")
            )
            continue
        count = len(page.records)
        steps.append(
            Step(
                label,
                True,
                f"{query.object} answers; {count} record{'s' * (count != 1)} read "
                "with LIMIT 1."
                if count
                else f"{query.object} answers, but no record matches the query.",
            )
        )

    for label, url in (
        ("REST API base URL", connection.api_base_url),
        ("Services base URL", connection.services_base_url),
    ):
        steps.append(_probe_step(client, label, url, token.instance_url))
    return steps

