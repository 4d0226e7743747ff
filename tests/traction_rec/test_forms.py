import datetime as dt

import pytest
from django import forms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import make_key_pair
from traction_rec.forms import ConnectionSettingsForm, normalise_url
from traction_rec.models import ConnectionSettings

pytestmark = pytest.mark.django_db


def valid_data(key_pair, **changes):
    data = {
        "consumer_key": "3MVG9-consumer",
        "consumer_secret": "F00-consumer-secret",
        "login_user": "integration@ymca.org",
        "login_url": "https://login.salesforce.com",
        "services_base_url": "https://ymca.my.salesforce.com",
        "api_base_url": "https://ymca.my.salesforce.com",
        "community_url": "https://ymca.my.site.com/s/",
        "api_version": "v62.0",
        "timeout": "90",
        "private_key_source": "database",
        "private_key": key_pair[0],
        "certificate": key_pair[1],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def submit(data):
    form = ConnectionSettingsForm(data, instance=ConnectionSettings.load())
    if form.is_valid():
        form.save()
    return form


class TestNormaliseUrl:
    @pytest.mark.parametrize(
        "given, expected",
        [
            ("https://ymca.my.salesforce.com", "https://ymca.my.salesforce.com"),
            ("https://ymca.my.salesforce.com/", "https://ymca.my.salesforce.com"),
            ("https://YMCA.My.Salesforce.com//", "https://ymca.my.salesforce.com"),
            (
                "https://ymca.my.salesforce.com/services/data/v62.0/",
                "https://ymca.my.salesforce.com",
            ),
            ("https://ymca.my.salesforce.com/services/data", "https://ymca.my.salesforce.com"),
            (
                "https://login.salesforce.com/services/oauth2/token",
                "https://login.salesforce.com",
            ),
            ("  ymca.my.salesforce.com ", "https://ymca.my.salesforce.com"),
            ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
            ("http://localhost:9000", "http://localhost:9000"),
            ("", ""),
        ],
    )
    def test_it_normalises(self, given, expected):
        assert normalise_url(given, label="login URL") == expected

    def test_a_community_url_keeps_its_path(self):
        assert normalise_url(
            "https://ymca.my.site.com/s/", label="community URL", keep_path=True
        ) == "https://ymca.my.site.com/s"

    def test_plain_http_is_refused_off_loopback(self):
        with pytest.raises(forms.ValidationError) as caught:
            normalise_url("http://login.salesforce.com", label="login URL")

        assert caught.value.messages == [
            "The login URL must use https (plain http is only for the local org on "
            "127.0.0.1)."
        ]

    def test_a_lightning_host_is_refused_with_the_host_to_use(self):
        with pytest.raises(forms.ValidationError) as caught:
            normalise_url("https://ymca.lightning.force.com/", label="REST API base URL")

        assert caught.value.messages == [
            "ymca.lightning.force.com is the Lightning host, which redirects: every "
            "API call would then fail with INVALID_SESSION_ID. Use the My Domain "
            "host instead, https://ymca.my.salesforce.com."
        ]

    def test_a_sandbox_lightning_host_gets_the_sandbox_my_domain(self):
        with pytest.raises(forms.ValidationError) as caught:
            normalise_url("https://ymca--dev.sandbox.lightning.force.com", label="x")

        assert caught.value.messages[0].endswith(
            "https://ymca--dev.sandbox.my.salesforce.com."
        )

    def test_another_path_is_refused(self):
        with pytest.raises(forms.ValidationError) as caught:
            normalise_url("https://ymca.my.salesforce.com/lightning/page/home", label="login URL")

        assert caught.value.messages == [
            "Give only the host in the login URL, e.g. https://ymca.my.salesforce.com; "
            "the path /lightning/page/home is not needed."
        ]

    @pytest.mark.parametrize(
        "given",
        ["https://acme.lightning.force.com.", "https://ACME.Lightning.Force.Com./"],
    )
    def test_a_lightning_host_with_a_trailing_dot_is_refused(self, given):
        with pytest.raises(forms.ValidationError) as caught:
            normalise_url(given, label="login URL")

        assert caught.value.messages == [
            "acme.lightning.force.com is the Lightning host, which redirects: every "
            "API call would then fail with INVALID_SESSION_ID. Use the My Domain "
            "host instead, https://acme.my.salesforce.com."
        ]

    def test_a_trailing_dot_is_dropped_from_the_host(self):
        assert normalise_url(
            "https://ymca.my.salesforce.com./", label="login URL"
        ) == "https://ymca.my.salesforce.com"

    def test_credentials_in_the_url_are_refused(self):
        with pytest.raises(forms.ValidationError, match="Remove the user name and password"):
            normalise_url("https://me:pw@ymca.my.salesforce.com", label="login URL")

    def test_another_scheme_is_refused(self):
        with pytest.raises(forms.ValidationError, match="must start with https://"):
            normalise_url("ftp://ymca.my.salesforce.com", label="login URL")


class TestTheForm:
    def test_a_complete_submission_is_stored(self, key_pair):
        form = submit(valid_data(key_pair))

        assert form.errors == {}
        stored = ConnectionSettings.objects.get(pk=1)
        assert stored.consumer_secret == "F00-consumer-secret"
        assert stored.private_key == key_pair[0]
        assert stored.certificate == key_pair[1]
        assert stored.community_url == "https://ymca.my.site.com/s"
        assert stored.certificate_expires_at is not None

    def test_a_damaged_key_is_stored_repaired(self, key_pair):
        submit(valid_data(key_pair, private_key=key_pair[0].replace("\n", " ")))

        assert ConnectionSettings.objects.get(pk=1).private_key == key_pair[0]

    def test_the_certificate_expiry_is_recorded(self, key_pair):
        from cryptography import x509

        submit(valid_data(key_pair))

        expected = x509.load_pem_x509_certificate(key_pair[1].encode()).not_valid_after_utc
        assert ConnectionSettings.objects.get(pk=1).certificate_expires_at == expected

    def test_empty_secret_fields_keep_the_stored_values(self, key_pair):
        submit(valid_data(key_pair, private_key_passphrase=""))

        form = submit(
            valid_data(key_pair, consumer_secret="", private_key="", login_user="new@ymca.org")
        )

        assert form.errors == {}
        stored = ConnectionSettings.objects.get(pk=1)
        assert stored.login_user == "new@ymca.org"
        assert stored.consumer_secret == "F00-consumer-secret"
        assert stored.private_key == key_pair[0]

    def test_a_clear_box_removes_a_stored_secret(self, key_pair):
        submit(valid_data(key_pair))

        submit(valid_data(key_pair, consumer_secret="", clear_consumer_secret="on"))

        assert ConnectionSettings.objects.get(pk=1).consumer_secret == ""

    def test_blank_version_and_timeout_take_the_defaults(self, key_pair):
        submit(valid_data(key_pair, api_version="", timeout=""))

        stored = ConnectionSettings.objects.get(pk=1)
        assert (stored.api_version, stored.timeout) == ("v62.0", 90)

    @pytest.mark.parametrize("given", ["62", "62.0", "V62.0", "v62"])
    def test_the_api_version_is_normalised(self, key_pair, given):
        submit(valid_data(key_pair, api_version=given))

        assert ConnectionSettings.objects.get(pk=1).api_version == "v62.0"

    def test_a_bad_api_version_is_refused(self, key_pair):
        form = submit(valid_data(key_pair, api_version="latest"))

        assert form.errors["api_version"] == [
            "Write the API version as vNN.N, for example v62.0."
        ]

    @pytest.mark.parametrize("given", ["-1", "0", "4", "601", "99999999999", "1.5", "abc"])
    def test_every_timeout_out_of_range_gets_the_same_sentence(self, key_pair, given):
        form = submit(valid_data(key_pair, timeout=given))

        assert form.errors == {
            "timeout": ["Give the timeout in seconds, a whole number between 5 and 600."]
        }

    @pytest.mark.parametrize("given, expected", [("5", 5), ("600", 600)])
    def test_the_timeout_bounds_are_accepted(self, key_pair, given, expected):
        form = submit(valid_data(key_pair, timeout=given))

        assert form.errors == {}
        assert ConnectionSettings.load().timeout == expected

    @pytest.mark.parametrize(
        "login_url, audience, status, used",
        [
            (
                "http://127.0.0.1:8001",
                "",
                "Derived: https://login.salesforce.com (production; the login URL "
                "is not a sandbox).",
                "https://login.salesforce.com",
            ),
            (
                "https://ymca--dev.sandbox.my.salesforce.com",
                "",
                "Derived: https://test.salesforce.com (sandbox; the login URL is a "
                "sandbox host).",
                "https://test.salesforce.com",
            ),
            (
                "https://ymca--dev.sandbox.my.salesforce.com",
                "https://login.salesforce.com",
                "In use: https://login.salesforce.com (set here; empty the field to "
                "derive it from the login URL).",
                "https://login.salesforce.com",
            ),
        ],
    )
    def test_the_audience_help_says_what_the_client_sends(
        self, key_pair, login_url, audience, status, used
    ):
        from traction_rec.client import TractionRecClient

        submit(valid_data(key_pair, login_url=login_url, audience=audience))

        form = ConnectionSettingsForm(instance=ConnectionSettings.load())

        assert form.fields["audience"].help_text == (
            "Leave empty to derive it: https://test.salesforce.com for a sandbox "
            "login or My Domain, https://login.salesforce.com otherwise. " + status
        )
        assert TractionRecClient.from_settings().audience == used

    def test_the_demo_way_in_needs_only_the_essentials(self, key_pair):
        form = submit(
            {
                "consumer_key": "demo-consumer-key",
                "login_user": "integration@ymca.example",
                "login_url": "http://127.0.0.1:8123",
                "api_base_url": "http://127.0.0.1:8123",
                "services_base_url": "http://127.0.0.1:8123",
                "community_url": "http://127.0.0.1:8000/register",
                "private_key": key_pair[0],
            }
        )

        assert form.errors == {}
        stored = ConnectionSettings.objects.get(pk=1)
        assert stored.private_key_source == "database"
        assert stored.effective_audience == "https://login.salesforce.com"

    def test_a_sandbox_my_domain_derives_the_test_audience(self, key_pair):
        submit(valid_data(key_pair, login_url="https://ymca--dev.sandbox.my.salesforce.com"))

        stored = ConnectionSettings.objects.get(pk=1)
        assert stored.audience == ""
        assert stored.effective_audience == "https://test.salesforce.com"

    def test_the_audience_can_be_overridden(self, key_pair):
        submit(
            valid_data(
                key_pair,
                login_url="https://ymca--dev.sandbox.my.salesforce.com",
                audience="https://login.salesforce.com/",
            )
        )

        assert ConnectionSettings.objects.get(pk=1).effective_audience == (
            "https://login.salesforce.com"
        )

    def test_a_login_user_that_is_not_a_username_is_refused(self, key_pair):
        form = submit(valid_data(key_pair, login_user="Integration User"))

        assert form.errors["login_user"] == [
            "Enter the integration user's Salesforce username, which has the form of "
            "an email address (for example integration@ymca.org, or "
            "integration@ymca.org.dev in a sandbox)."
        ]


class TestWhatIsRefused:
    def test_nothing_is_saved_when_anything_is_refused(self, key_pair):
        submit(valid_data(key_pair))

        form = submit(
            valid_data(
                key_pair,
                consumer_secret="other-secret",
                api_base_url="https://ymca.lightning.force.com",
            )
        )

        assert list(form.errors) == ["api_base_url"]
        stored = ConnectionSettings.objects.get(pk=1)
        assert stored.consumer_secret == "F00-consumer-secret"
        assert stored.api_base_url == "https://ymca.my.salesforce.com"

    def test_a_certificate_in_the_key_field(self, key_pair):
        form = submit(valid_data(key_pair, private_key=key_pair[1]))

        assert form.errors["private_key"] == [
            "This is a certificate, not a private key. Paste the certificate in the "
            "Certificate field, and the private key (the file starting with -----BEGIN "
            "PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) here."
        ]

    def test_an_ec_key(self, key_pair):
        text = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()

        form = submit(valid_data(key_pair, private_key=text))

        assert form.errors["private_key"][0].startswith("This is an EC (elliptic curve) key.")

    def test_a_key_and_certificate_that_do_not_belong_together(self, key_pair):
        _, other_certificate = make_key_pair()

        form = submit(valid_data(key_pair, certificate=other_certificate))

        assert form.errors["private_key"] == [
            "The private key and the certificate do not belong together, so "
            "Salesforce would refuse every token. Paste the certificate made from "
            "this key (the one uploaded to the connected app), or the key that made it."
        ]

    def test_a_new_certificate_that_does_not_match_the_stored_key(self, key_pair):
        submit(valid_data(key_pair))
        _, other_certificate = make_key_pair()

        form = submit(valid_data(key_pair, private_key="", certificate=other_certificate))

        assert list(form.errors) == ["certificate"]

    def test_an_expired_certificate(self, key_pair, expiring_certificate):
        form = submit(valid_data(key_pair, certificate=expiring_certificate(-2)))

        expired_on = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).date()
        assert form.errors["certificate"] == [
            f"This certificate expired on {expired_on:%Y-%m-%d}. Make a new key and "
            "certificate, upload the certificate to the connected app, then paste "
            "both here."
        ]

    def test_a_protected_key_without_its_passphrase(self, key_pair):
        key = serialization.load_pem_private_key(key_pair[0].encode(), None)
        protected = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        ).decode()

        refused = submit(valid_data(key_pair, private_key=protected))
        accepted = submit(
            valid_data(key_pair, private_key=protected, private_key_passphrase="s3cret")
        )

        assert refused.errors["private_key_passphrase"] == [
            "This key is protected by a passphrase; enter it in the passphrase field."
        ]
        assert accepted.errors == {}
        assert ConnectionSettings.objects.get(pk=1).private_key_passphrase == "s3cret"

    def test_a_pasted_key_when_the_key_comes_from_the_environment(self, key_pair, settings):
        settings.TRACTION_REC_PRIVATE_KEY = key_pair[0]

        form = submit(valid_data(key_pair, private_key_source="environment"))

        assert form.errors["private_key"] == [
            "The key is set to come from the environment; choose 'Stored here' to "
            "store a pasted key, or leave this empty."
        ]

    def test_the_environment_source_without_the_variable(self, key_pair, settings):
        settings.TRACTION_REC_PRIVATE_KEY = ""

        form = submit(valid_data(key_pair, private_key_source="environment", private_key=""))

        assert form.errors["private_key_source"] == [
            "TRACTION_REC_PRIVATE_KEY (or TRACTION_REC_PRIVATE_KEY_FILE) is not set in "
            "this server's environment; set it for the web and worker processes, or "
            "store the key here."
        ]

    def test_the_environment_source_with_the_variable(self, key_pair, settings):
        settings.TRACTION_REC_PRIVATE_KEY = key_pair[0].replace("\n", "\\n")

        form = submit(valid_data(key_pair, private_key_source="environment", private_key=""))

        assert form.errors == {}
        assert ConnectionSettings.objects.get(pk=1).private_key == ""

    def test_the_file_source_reads_and_checks_the_file(self, key_pair, tmp_path):
        path = tmp_path / "server.key"
        path.write_text(key_pair[0])

        accepted = submit(
            valid_data(key_pair, private_key_source="file", private_key="",
                       private_key_path=str(path))
        )
        refused = submit(
            valid_data(key_pair, private_key_source="file", private_key="",
                       private_key_path=str(tmp_path / "nope.key"))
        )

        assert accepted.errors == {}
        assert refused.errors["private_key_path"] == [
            f"{tmp_path / 'nope.key'} cannot be read (No such file or directory); check "
            "the path and that the web and worker users may read it."
        ]

    def test_a_relative_key_path(self, key_pair):
        form = submit(
            valid_data(key_pair, private_key_source="file", private_key="",
                       private_key_path="keys/server.key")
        )

        assert form.errors["private_key_path"] == [
            "Give the key file's full path, starting with /."
        ]
