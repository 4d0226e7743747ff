import datetime as dt
import io

import pytest
import responses
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import make_key_pair
from traction_rec import checks, connection_test
from traction_rec.client import TractionRecClient
from traction_rec.forms import ConnectionSettingsForm
from traction_rec.models import ConnectionSettings
from traction_rec.signals import connection_tested

try:
    from traction_rec.emulator.testing import running_org
except ImportError:  # pragma: no cover - the local org ships in this repository
    running_org = None

pytestmark = pytest.mark.django_db
needs_org = pytest.mark.skipif(
    running_org is None, reason="traction_rec.emulator.testing is missing"
)

STEP_NAMES = [
    "Settings and private key",
    "Certificate",
    "Token request",
    "API versions",
    "Query program_category_tags",
    "Query courses",
    "Query course_options",
    "Query locations",
    "Query availability",
    "REST API base URL",
    "Services base URL",
]


@pytest.fixture
def org(sample_org_dir):
    key_pem, certificate_pem = make_key_pair()
    with running_org(
        sample_org_dir, certificate_pem=certificate_pem, today=dt.date(2026, 12, 4)
    ) as handle:
        form = ConnectionSettingsForm(
            {
                "consumer_key": "demo-consumer-key",
                "login_user": "integration@ymca.example",
                "login_url": handle.url,
                "api_base_url": handle.url,
                "services_base_url": handle.url,
                "private_key": key_pem,
                "certificate": certificate_pem,
            },
            instance=ConnectionSettings.load(),
        )
        assert form.errors == {}
        form.save()
        yield handle


@pytest.fixture
def signals():
    received = []

    def receiver(sender, ok, **kwargs):
        received.append(ok)

    connection_tested.connect(receiver)
    yield received
    connection_tested.disconnect(receiver)


@needs_org
class TestAgainstTheLocalOrg:
    def test_every_step_passes_on_a_good_connection(self, org, signals):
        steps = connection_test.run()

        assert [step.name for step in steps] == STEP_NAMES
        assert [step.ok for step in steps] == [True] * len(STEP_NAMES)
        assert steps[2].detail == (
            f"Salesforce issued a token; the API host is {org.url}."
        )
        assert steps[5].detail == "TREX1__Course__c answers; 1 record read with LIMIT 1."
        assert steps[9].detail == (
            f"{org.url} answers without a redirect (status 200)."
        )
        assert signals == [True]

    def test_each_query_step_asks_for_one_row(self, org):
        connection_test.run()

        queries = [r for r in org.requests if r.path.startswith("/services/data/v62.0/query")]
        assert len(queries) == 5

    def test_a_refused_token_stops_the_run_with_salesforces_words(self, org, signals):
        org.faults.add("unapproved_user")

        steps = connection_test.run()

        assert [step.name for step in steps] == STEP_NAMES[:3]
        token = steps[2]
        assert token.ok is False
        assert token.detail == (
            "Salesforce refused the token: invalid_grant (user hasn't approved this "
            "consumer)."
        )
        assert token.hint.startswith("In Salesforce Setup, open the connected app")
        assert signals == [False]

    def test_an_unknown_field_fails_only_its_query(self, org, settings):
        settings.TRACTION_REC_QUERY_OVERRIDES = {"courses": {"fields": ["TREX1__Gender__c"]}}

        steps = {step.name: step for step in connection_test.run()}

        assert steps["Query courses"].ok is False
        assert steps["Query courses"].hint.startswith("A field in the query does not exist")
        assert steps["Query locations"].ok is True

    def test_an_api_version_the_org_lacks(self, org):
        ConnectionSettings.objects.filter(pk=1).update(api_version="v99.0")

        steps = {step.name: step for step in connection_test.run()}

        assert steps["API versions"].ok is False
        assert steps["API versions"].detail.startswith("The org does not offer v99.0;")

    def test_tr_check_prints_each_step_and_exits_zero(self, org):
        out = io.StringIO()

        call_command("tr_check", stdout=out)

        lines = out.getvalue().splitlines()
        assert lines[0] == "[ok] Settings and private key: Complete; the key loads (database)."
        assert lines[-1] == "All 11 steps passed."

    def test_tr_check_fails_on_an_expired_certificate(self, org):
        key_pem = ConnectionSettings.load().private_key
        from tests.traction_rec.conftest import certificate_for

        now = dt.datetime.now(dt.timezone.utc)
        expired = certificate_for(
            key_pem, not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=3)
        )
        ConnectionSettings.objects.filter(pk=1).update(
            certificate=expired, certificate_expires_at=now - dt.timedelta(days=3)
        )
        out = io.StringIO()

        with pytest.raises(CommandError) as caught:
            call_command("tr_check", stdout=out)

        expired_on = (now - dt.timedelta(days=3)).date()
        assert f"[FAILED] Certificate: The certificate expired on {expired_on:%Y-%m-%d}." in (
            out.getvalue()
        )
        assert str(caught.value) == (
            "1 of 11 steps failed: Certificate. Fix them in the Traction Rec "
            "connection settings (admin)."
        )


class TestWithoutAnOrg:
    def test_an_empty_connection_fails_the_first_step(self, signals):
        steps = connection_test.run()

        assert [(s.name, s.ok) for s in steps] == [
            ("Settings and private key", False),
            ("Certificate", True),
        ]
        assert steps[0].detail == (
            "The Traction Rec connection is not set up: consumer key, login user, "
            "login URL are empty."
        )
        assert signals == [False]

    def test_tr_check_exits_non_zero_when_not_set_up(self):
        with pytest.raises(CommandError, match="^1 of 2 steps failed: Settings and private key."):
            call_command("tr_check", stdout=io.StringIO())

    def test_a_lightning_api_base_url_fails_its_probe(self, key_pair):
        connection = ConnectionSettings(
            consumer_key="k",
            login_user="u@ymca.org",
            login_url="https://login.salesforce.com",
            api_base_url="https://ymca.lightning.force.com",
            private_key=key_pair[0],
        )
        client = TractionRecClient.from_settings(connection)

        with responses.RequestsMock() as mocked:
            mocked.get(
                "https://ymca.lightning.force.com/services/data/",
                status=302,
                headers={"Location": "https://ymca.my.salesforce.com/services/data/"},
                body="<html></html>",
            )
            step = connection_test._probe_step(
                client, "REST API base URL", connection.api_base_url, "https://ymca.my.salesforce.com"
            )

        assert step.ok is False
        assert step.detail == (
            "https://ymca.lightning.force.com redirects (status 302) to "
            "ymca.my.salesforce.com."
        )
        assert step.hint == (
            "Use the org's https://NAME.my.salesforce.com host: the lightning host "
            "redirects, and API calls then fail with INVALID_SESSION_ID."
        )

    def test_a_base_url_other_than_the_instance_url_is_pointed_out(self, key_pair):
        connection = ConnectionSettings(
            consumer_key="k", login_user="u@ymca.org",
            login_url="https://login.salesforce.com", private_key=key_pair[0],
        )
        client = TractionRecClient.from_settings(connection)

        with responses.RequestsMock() as mocked:
            mocked.get("https://old.my.salesforce.com/services/data/", json=[])
            step = connection_test._probe_step(
                client, "Services base URL", "https://old.my.salesforce.com",
                "https://ymca.my.salesforce.com",
            )

        assert step.ok is True
        assert step.hint == "Set it to https://ymca.my.salesforce.com to match."


class TestExpiryCheck:
    def store_expiry(self, when):
        ConnectionSettings.objects.update_or_create(pk=1, defaults={"certificate_expires_at": when})

    def test_nothing_is_said_without_a_certificate(self):
        assert checks.certificate_expiry() == []

    def test_nothing_is_said_31_days_ahead(self):
        now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
        self.store_expiry(now + dt.timedelta(days=31))

        assert checks.certificate_expiry(now=now) == []

    def test_it_warns_30_days_ahead(self):
        now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
        self.store_expiry(now + dt.timedelta(days=30))

        [warning] = checks.certificate_expiry(now=now)

        assert warning.id == "traction_rec.W001"
        assert warning.msg == (
            "The Traction Rec certificate expires in 30 days, on 2027-01-03."
        )
        assert warning.hint == (
            "Make a new key and certificate, upload the certificate to the connected "
            "app, and paste both in the Traction Rec connection settings."
        )

    def test_it_is_an_error_once_expired(self):
        now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
        self.store_expiry(now - dt.timedelta(hours=1))

        [error] = checks.certificate_expiry(now=now)

        assert error.id == "traction_rec.E001"
        assert error.msg == (
            "The Traction Rec certificate expired on 2026-12-04; Salesforce refuses "
            "every token."
        )

    def test_manage_py_check_runs_it(self):
        self.store_expiry(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=5, hours=1))
        err = io.StringIO()

        call_command("check", stderr=err, stdout=io.StringIO())

        assert "traction_rec.W001" in err.getvalue()
