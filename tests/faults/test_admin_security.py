"""Attacks on the admin: leaked secrets, missing permissions and forged requests.

The connection is saved through the admin's own change page with a
passphrase-protected key, then the connection test, a fetch and a refused
token request run while every log record at DEBUG is captured. No secret
(consumer secret, private key in either form, passphrase) may show in a
page, a log line, an exception message, a repr or the database's raw
columns. Every admin page and action needs staff and its own permission,
and every state-changing POST needs the CSRF token.
"""

import logging

import pytest
from cryptography.hazmat.primitives import serialization
from django.contrib.auth.models import Permission
from django.db import connection as db
from django.test import Client
from django.urls import reverse

from tests.faults.conftest import CONSUMER_SECRET, connection_data
from tests.faults.reliability import attack
from traction_rec.models import ConnectionSettings
from traction_rec_import.admin import OPERATIONS

pytestmark = pytest.mark.django_db

PASSPHRASE = "faults-passphrase-Kx7!"
CHANGE_URL = "/admin/traction_rec/connectionsettings/1/change/"
LOGGERS = (
    "",
    "traction_rec",
    "traction_rec_import",
    "activity_finder",
    "django",
    "urllib3",
)


def encrypted_key(key_pem):
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()


def pem_lines(pem):
    """The base64 lines of a PEM: any one of them in the open is a leak."""
    return [line for line in pem.strip().splitlines() if not line.startswith("-----")]


@pytest.fixture
def secrets(key_pair):
    key_pem, _ = key_pair
    protected = encrypted_key(key_pem)
    return {
        "consumer secret": CONSUMER_SECRET,
        "passphrase": PASSPHRASE,
        **{f"key line {n}": line for n, line in enumerate(pem_lines(key_pem)[1:-1])},
        **{
            f"encrypted key line {n}": line
            for n, line in enumerate(pem_lines(protected)[1:-1])
        },
        "protected": protected,
    }


def leaks(text, secrets):
    return sorted(
        name for name, value in secrets.items() if name != "protected" and value in text
    )


@pytest.fixture
def saved_through_admin(org, key_pair, secrets, admin_client, caplog):
    """Save the connection on the admin page, with every logger at DEBUG."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    _, cert_pem = key_pair
    data = connection_data(
        org.url,
        secrets["protected"],
        cert_pem,
        private_key_passphrase=PASSPHRASE,
    )

    response = admin_client.post(CHANGE_URL, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    return response


@attack(
    "secrets saved through the admin, then the change page and the test page",
    expected="no consumer secret, key line or passphrase in either page",
)
def test_the_admin_pages_never_show_a_secret(saved_through_admin, admin_client, secrets,
                                             observed):
    change_page = admin_client.get(CHANGE_URL).content.decode()
    test_page = admin_client.post(reverse("admin:traction_rec_connectionsettings_test"))

    observed(
        f"change page {len(change_page)} bytes, test page {test_page.status_code}; "
        f"leaks {leaks(change_page, secrets)} "
        f"{leaks(test_page.content.decode(), secrets)}"
    )
    assert "Set (fingerprint " in change_page
    assert test_page.status_code == 200
    assert leaks(change_page, secrets) == []
    assert leaks(test_page.content.decode(), secrets) == []


@attack(
    "every log record at DEBUG (all loggers) while saving, testing, fetching and "
    "failing a token request",
    expected="no secret, no JWT assertion, no access token in any record",
)
def test_no_log_record_holds_a_secret(saved_through_admin, admin_client, org, secrets,
                                      caplog, fast_client, observed):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    admin_client.post(reverse("admin:traction_rec_connectionsettings_test"))
    call_command("tr_fetch")
    org.faults.add("unapproved_user")
    from traction_rec.client import TractionRecClient

    client = TractionRecClient.from_settings(sleep=lambda seconds: None)
    with pytest.raises(Exception):
        client.token(refresh=True)
    org.revoke_tokens()
    org.faults.add("expire_token", after=0, times=None)
    with pytest.raises(CommandError):
        call_command("tr_fetch")

    text = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.args!r}"
        for record in caplog.records
    )

    observed(f"{len(caplog.records)} records; leaks {leaks(text, secrets)}")
    assert len(caplog.records) > 20
    assert leaks(text, secrets) == []
    # A JWT (assertion or token) starts with the base64 of '{"'.
    assert "eyJ" not in text


@attack(
    "exception messages of a wrong passphrase, a refused token and the form",
    expected="no secret in any message",
)
def test_no_exception_message_holds_a_secret(saved_through_admin, org, secrets,
                                             key_pair, observed):
    from traction_rec import keys
    from traction_rec.client import TractionRecClient
    from traction_rec.forms import ConnectionSettingsForm

    messages = []
    stored = ConnectionSettings.load()
    stored.private_key_passphrase = "not-the-passphrase"
    try:
        keys.signing_key(stored)
    except Exception as exc:
        messages.append(f"{type(exc).__name__}: {exc} {exc!r}")
    org.faults.add("unapproved_user")
    try:
        TractionRecClient.from_settings(sleep=lambda s: None).token(refresh=True)
    except Exception as exc:
        hint = getattr(exc, "hint", "")
        messages.append(f"{type(exc).__name__}: {exc} {exc!r} {hint}")
    _, cert_pem = key_pair
    form = ConnectionSettingsForm(
        data=connection_data(
            org.url, secrets["protected"], cert_pem, private_key_passphrase="wrong"
        ),
        instance=ConnectionSettings.load(),
    )
    form.is_valid()
    messages.append(str(form.errors))

    observed(f"{len(messages)} messages; leaks {leaks(' '.join(messages), secrets)}")
    assert len(messages) == 3
    assert leaks(" ".join(messages), secrets) == []


@attack(
    "repr and str of the connection model, the client, its token and Django's "
    "settings as the error page shows them",
    expected="no secret in any of them",
)
def test_no_repr_holds_a_secret(saved_through_admin, secrets, settings, key_pair,
                                observed):
    from django.views.debug import SafeExceptionReporterFilter

    from traction_rec.client import TractionRecClient

    settings.TRACTION_REC_PRIVATE_KEY = key_pair[0]
    connection = ConnectionSettings.load()
    client = TractionRecClient.from_settings()
    token = client.token()
    texts = [
        repr(connection),
        str(connection),
        repr(client),
        str(client),
        repr(token),
        str(token),
        repr(SafeExceptionReporterFilter().get_safe_settings()),
    ]

    observed(f"leaks {leaks(' '.join(texts), secrets)}")
    assert leaks(" ".join(texts), secrets) == []
    assert token.access_token not in " ".join(texts)


@attack(
    "the connection's row read with a raw cursor",
    expected="consumer secret, key and passphrase stored encrypted, never in clear",
)
def test_the_database_holds_no_secret_in_clear(saved_through_admin, secrets, observed):
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT consumer_secret, private_key, private_key_passphrase "
            "FROM traction_rec_connectionsettings"
        )
        rows = cursor.fetchall()
    raw = " ".join(
        bytes(value).decode("latin-1")
        if isinstance(value, (bytes, memoryview))
        else str(value)
        for row in rows
        for value in row
    )

    observed(f"{len(rows)} row, {len(raw)} characters; leaks {leaks(raw, secrets)}")
    assert len(rows) == 1
    assert all(rows[0])
    assert leaks(raw, secrets) == []
    assert ConnectionSettings.load().consumer_secret == CONSUMER_SECRET


# Access

CONNECTION_PAGES = [
    ("get", "/admin/traction_rec/connectionsettings/"),
    ("get", CHANGE_URL),
    ("get", "/admin/traction_rec/connectionsettings/1/history/"),
    ("post", CHANGE_URL),
    ("post", "/admin/traction_rec/connectionsettings/test/"),
]
SYNC_PAGES = [
    ("post", f"/admin/traction_rec_import/importrun/operations/{slug}/")
    for slug in OPERATIONS
] + [
    ("get", "/admin/traction_rec_import/importrun/"),
    ("get", "/admin/traction_rec_import/skippedrecord/"),
    ("get", "/admin/traction_rec_import/importsettings/1/change/"),
    ("post", "/admin/traction_rec_import/importsettings/1/change/"),
    ("get", "/admin/traction_rec_import/locationmapping/"),
    ("get", "/admin/traction_rec_import/fetchedlocation/"),
    ("post", "/admin/traction_rec_import/fetchedlocation/read-last-fetch/"),
]
CONTENT_PAGES = [
    ("get", f"/admin/activity_finder/{model}/")
    for model in ("program", "programsubcategory", "activity", "class", "session",
                  "location", "agepoint")
] + [("get", "/admin/django_celery_beat/periodictask/")]
ALL_PAGES = CONNECTION_PAGES + SYNC_PAGES + CONTENT_PAGES


def user(django_user_model, name, *, staff=True, perms=()):
    account = django_user_model.objects.create_user(name, password="x", is_staff=staff)
    for perm in perms:
        app_label, codename = perm.split(".")
        account.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client()
    client.force_login(account)
    return client


def status(client, method, url):
    response = getattr(client, method)(url)
    if response.status_code == 302 and response["Location"].startswith("/admin/login/"):
        return "login"
    return response.status_code


@attack(
    "anonymous visitor and a non-staff user with every permission, on every admin "
    "page and action",
    expected="redirected to the admin login",
)
def test_anonymous_and_non_staff_users_are_sent_to_the_login(
    django_user_model, observed
):
    non_staff = user(
        django_user_model,
        "outsider",
        staff=False,
        perms=["traction_rec.manage_connection", "traction_rec_import.operate_sync"],
    )

    answers = {
        (who, method, url): status(client, method, url)
        for who, client in (("anonymous", Client()), ("non-staff", non_staff))
        for method, url in ALL_PAGES
    }

    observed(f"{len(answers)} requests; answers {sorted(set(answers.values()))}")
    assert {key: value for key, value in answers.items() if value != "login"} == {}


@attack(
    "staff without any permission on every admin page and action",
    expected="403 everywhere",
)
def test_staff_without_a_permission_get_403(django_user_model, observed):
    staff = user(django_user_model, "staff")

    answers = {(method, url): status(staff, method, url) for method, url in ALL_PAGES}

    seen = sorted(set(map(str, answers.values())))

    observed(f"{len(answers)} requests; answers {seen}")
    assert {key: value for key, value in answers.items() if value != 403} == {}


@attack(
    "staff with the sync permission only, on the connection pages; staff with the "
    "connection permission only, on the sync operations",
    expected="403: each permission opens only its own pages",
)
def test_each_permission_opens_only_its_own_pages(django_user_model, observed):
    operator = user(django_user_model, "operator",
                    perms=["traction_rec_import.operate_sync"])
    connector = user(django_user_model, "connector",
                     perms=["traction_rec.manage_connection"])
    operations = [page for page in SYNC_PAGES if "/operations/" in page[1]]

    refused = {
        **{("operator", m, u): status(operator, m, u) for m, u in CONNECTION_PAGES},
        **{("connector", m, u): status(connector, m, u) for m, u in operations},
    }
    allowed = {
        ("operator", "get", "/admin/traction_rec_import/importrun/"): status(
            operator, "get", "/admin/traction_rec_import/importrun/"
        ),
        ("operator", "post", "/admin/traction_rec_import/importrun/operations/import/"):
            status(operator, "post",
                   "/admin/traction_rec_import/importrun/operations/import/"),
        ("connector", "get", CHANGE_URL): status(connector, "get", CHANGE_URL),
    }

    observed(f"refused {sorted(set(map(str, refused.values())))}, allowed {allowed}")
    assert {key: value for key, value in refused.items() if value != 403} == {}
    assert set(allowed.values()) == {200}


# CSRF

CSRF_POSTS = [
    CHANGE_URL,
    "/admin/traction_rec/connectionsettings/test/",
    "/admin/traction_rec_import/importsettings/1/change/",
    "/admin/traction_rec_import/fetchedlocation/read-last-fetch/",
] + [f"/admin/traction_rec_import/importrun/operations/{slug}/" for slug in OPERATIONS]


@attack(
    "a forged POST (no CSRF token) by a logged-in superuser to every admin action",
    expected="403 CSRF verification failed; nothing runs",
)
def test_every_admin_action_needs_the_csrf_token(admin_user, observed):
    from traction_rec_import.models import ImportRun

    forged = Client(enforce_csrf_checks=True)
    forged.force_login(admin_user)

    answers = {url: forged.post(url, {"confirmed": "1", "lock": "fetch"})
               for url in CSRF_POSTS}
    with_token = Client(enforce_csrf_checks=True)
    with_token.force_login(admin_user)
    with_token.get("/admin/traction_rec_import/importrun/")
    token = with_token.cookies["csrftoken"].value
    genuine = with_token.post(
        "/admin/traction_rec_import/importrun/operations/import/",
        {"csrfmiddlewaretoken": token},
    )

    codes = {url: response.status_code for url, response in answers.items()}
    observed(
        f"forged: {sorted(set(codes.values()))}; with the token: "
        f"{genuine.status_code}"
    )
    assert {url: code for url, code in codes.items() if code != 403} == {}
    assert all(b"CSRF verification failed" in r.content for r in answers.values())
    assert ImportRun.objects.count() == 0
    assert genuine.status_code == 200


# SOQL injection through the location mapping

# 18 characters, so only the Id rule (not the length) can refuse it.
CRAFTED_ID = "a0L5e' OR Id!=null"


@attack(
    "a crafted location Id pasted into the location mapping "
    "(\"a0L5e' OR Id!=null\")",
    expected="refused by the form with the Id rule; a row written past the form "
    "stops the fetch before any request, with a fix-it message",
)
def test_a_crafted_location_id_never_reaches_the_query(observed):
    from django.core.exceptions import ImproperlyConfigured

    from activity_finder.models import Location
    from traction_rec_import.fetch import run_fetch
    from traction_rec_import.location_admin import LocationMappingForm
    from traction_rec_import.models import ImportRun, LocationMapping

    branch = Location.objects.create(title="Evanston YMCA")
    form = LocationMappingForm(
        data={"sf_location_id": CRAFTED_ID, "location": branch.pk}
    )
    valid = form.is_valid()
    LocationMapping.objects.create(sf_location_id=CRAFTED_ID, location=branch)

    with pytest.raises(ImproperlyConfigured) as error:
        run_fetch()

    observed(
        f"form valid: {valid} ({list(form.errors.get('sf_location_id', []))}); "
        f"fetch: {error.value}"
    )
    assert valid is False
    assert form.errors["sf_location_id"] == [
        f"{CRAFTED_ID!r} is not a Salesforce Id: an Id holds only letters and digits."
    ]
    assert str(error.value).startswith(
        "A location mapping holds an Id the course_options query cannot use: "
    )
    assert str(error.value).endswith("Correct it on the location mapping screen.")
    assert ImportRun.objects.count() == 0
