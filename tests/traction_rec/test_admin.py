import datetime as dt

import pytest
import responses
from django.contrib.auth.models import Permission, User
from django.db import connection as db

from traction_rec import keys
from traction_rec.models import ConnectionSettings

pytestmark = pytest.mark.django_db

CHANGE_URL = "/admin/traction_rec/connectionsettings/1/change/"
LIST_URL = "/admin/traction_rec/connectionsettings/"
TEST_URL = "/admin/traction_rec/connectionsettings/test/"


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("ada", "ada@ymca.org", "pw-ada-1234")


@pytest.fixture
def manager():
    user = User.objects.create_user("mia", "mia@ymca.org", "pw-mia-1234", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_connection"))
    return user


@pytest.fixture
def plain_staff():
    return User.objects.create_user("sam", "sam@ymca.org", "pw-sam-1234", is_staff=True)


def post_data(key_pair, **changes):
    data = {
        "consumer_key": "3MVG9-consumer",
        "consumer_secret": "F00-consumer-secret",
        "login_user": "integration@ymca.org",
        "login_url": "https://login.salesforce.com",
        "audience": "",
        "services_base_url": "https://ymca.my.salesforce.com",
        "api_base_url": "https://ymca.my.salesforce.com/services/data/v62.0/",
        "community_url": "https://ymca.my.site.com",
        "api_version": "v62.0",
        "timeout": "90",
        "private_key_source": "database",
        "private_key": key_pair[0],
        "private_key_path": "",
        "private_key_passphrase": "",
        "certificate": key_pair[1],
        "_save": "Save",
    }
    data.update(changes)
    return data


class TestPermission:
    def test_the_permission_the_admin_checks_exists(self):
        permission = Permission.objects.get(codename="manage_connection")

        assert permission.content_type.app_label == "traction_rec"
        assert permission.name == "Can see and change the Traction Rec connection"
        assert list(
            Permission.objects.filter(content_type=permission.content_type).values_list(
                "codename", flat=True
            )
        ) == ["manage_connection"]

    def test_staff_without_it_are_refused(self, client, plain_staff, key_pair):
        client.force_login(plain_staff)

        assert client.get(LIST_URL).status_code == 403
        assert client.get(CHANGE_URL).status_code == 403
        assert client.post(CHANGE_URL, post_data(key_pair)).status_code == 403
        assert client.post(TEST_URL).status_code == 403
        assert ConnectionSettings.objects.get(pk=1).consumer_key == ""

    def test_staff_without_it_do_not_see_the_app_in_the_index(self, client, plain_staff):
        client.force_login(plain_staff)

        assert "Traction Rec connection" not in client.get("/admin/").content.decode()

    def test_staff_with_it_see_and_change_the_connection(self, client, manager, key_pair):
        client.force_login(manager)

        page = client.get(CHANGE_URL)
        saved = client.post(CHANGE_URL, post_data(key_pair))

        assert page.status_code == 200
        assert saved.status_code == 302
        assert ConnectionSettings.objects.get(pk=1).consumer_key == "3MVG9-consumer"

    def test_anonymous_visitors_are_sent_to_the_login_page(self, client):
        response = client.get(CHANGE_URL)

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


class TestThePage:
    def test_the_list_leads_to_the_one_record(self, client, admin_user):
        client.force_login(admin_user)

        response = client.get(LIST_URL)

        assert response.status_code == 302
        assert response["Location"] == CHANGE_URL

    def test_there_is_no_add_or_delete(self, client, admin_user):
        client.force_login(admin_user)

        assert client.get(LIST_URL + "add/").status_code == 403
        assert client.get(CHANGE_URL.replace("change/", "delete/")).status_code == 403

    def test_a_post_stores_normalised_values_and_encrypted_secrets(
        self, client, admin_user, key_pair
    ):
        client.force_login(admin_user)

        response = client.post(CHANGE_URL, post_data(key_pair))

        assert response.status_code == 302
        stored = ConnectionSettings.objects.get(pk=1)
        assert stored.api_base_url == "https://ymca.my.salesforce.com"
        assert stored.consumer_secret == "F00-consumer-secret"
        assert stored.private_key == key_pair[0]
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT consumer_secret, private_key FROM traction_rec_connectionsettings"
            )
            raw = b"".join(bytes(value) for value in cursor.fetchone())
        assert b"F00-consumer-secret" not in raw
        assert key_pair[0].splitlines()[1].encode() not in raw

    def test_secrets_are_never_rendered_back(self, client, admin_user, key_pair):
        client.force_login(admin_user)
        client.post(CHANGE_URL, post_data(key_pair))

        html = client.get(CHANGE_URL).content.decode()

        fingerprint = keys.load_private_key(key_pair[0]).fingerprint
        assert "F00-consumer-secret" not in html
        assert key_pair[0].splitlines()[1] not in html
        assert f"Set (fingerprint {keys.secret_fingerprint('F00-consumer-secret')})" in html
        assert f"Set: RSA 2048 bits, fingerprint {fingerprint}" in html
        # The certificate is public and shown, with its SHA-256.
        assert key_pair[1].splitlines()[1] in html

    def test_an_empty_submission_keeps_the_stored_secrets(self, client, admin_user, key_pair):
        client.force_login(admin_user)
        client.post(CHANGE_URL, post_data(key_pair))

        client.post(
            CHANGE_URL,
            post_data(key_pair, consumer_secret="", private_key="", timeout="60"),
        )

        stored = ConnectionSettings.objects.get(pk=1)
        assert stored.timeout == 60
        assert stored.consumer_secret == "F00-consumer-secret"
        assert stored.private_key == key_pair[0]

    def test_a_refused_post_says_why_and_does_not_echo_the_key(
        self, client, admin_user, key_pair
    ):
        client.force_login(admin_user)

        response = client.post(
            CHANGE_URL,
            post_data(key_pair, login_url="https://ymca.lightning.force.com"),
        )

        html = response.content.decode()
        assert response.status_code == 200
        assert (
            "ymca.lightning.force.com is the Lightning host, which redirects: every "
            "API call would then fail with INVALID_SESSION_ID. Use the My Domain host "
            "instead, https://ymca.my.salesforce.com."
        ) in html
        assert key_pair[0].splitlines()[1] not in html
        assert "F00-consumer-secret" not in html
        assert ConnectionSettings.objects.get(pk=1).login_url == ""

    def test_a_certificate_pasted_as_the_key_is_refused_on_the_page(
        self, client, admin_user, key_pair
    ):
        client.force_login(admin_user)

        response = client.post(CHANGE_URL, post_data(key_pair, private_key=key_pair[1]))

        assert "This is a certificate, not a private key." in response.content.decode()
        assert ConnectionSettings.objects.get(pk=1).private_key == ""

    def test_http_is_refused_off_loopback(self, client, admin_user, key_pair):
        client.force_login(admin_user)

        response = client.post(
            CHANGE_URL, post_data(key_pair, api_base_url="http://ymca.my.salesforce.com")
        )

        assert (
            "The REST API base URL must use https (plain http is only for the local "
            "org on 127.0.0.1)."
        ) in response.content.decode()


    @pytest.mark.parametrize(
        "field, label",
        [
            ("login_url", "login URL"),
            ("audience", "audience"),
            ("services_base_url", "services base URL"),
            ("api_base_url", "REST API base URL"),
            ("community_url", "community URL"),
        ],
    )
    @pytest.mark.parametrize(
        "value", ["https://acme.my.salesforce.com:99999", "javascript:alert(1)"]
    )
    def test_a_url_with_a_port_that_is_not_a_port_is_refused_with_a_sentence(
        self, client, admin_user, key_pair, field, label, value
    ):
        client.force_login(admin_user)

        response = client.post(CHANGE_URL, post_data(key_pair, **{field: value}))

        assert response.status_code == 200
        assert (
            f"The {label} has a port or host that is not valid; enter it as "
            "https://HOST, with :PORT only if the host needs one (a number up to "
            "65535)."
        ) in response.content.decode()
        assert not ConnectionSettings.objects.filter(pk=1, consumer_key="3MVG9-consumer")


    def test_the_certificate_field_and_its_status_have_distinct_labels(
        self, client, admin_user, key_pair
    ):
        client.force_login(admin_user)
        client.post(CHANGE_URL, post_data(key_pair))

        html = client.get(CHANGE_URL).content.decode()

        assert '<label for="id_certificate">Certificate (PEM):</label>' in html
        assert "<label>Stored certificate&#x27;s expiry and fingerprint:</label>" in html
        assert html.count("Certificate:</label>") == 0


class TestCertificateBanner:
    def test_a_certificate_expiring_within_30_days_shows_a_banner(
        self, client, admin_user, key_pair, expiring_certificate
    ):
        client.force_login(admin_user)
        client.post(CHANGE_URL, post_data(key_pair, certificate=expiring_certificate(10, hours=2)))
        expires_at = ConnectionSettings.objects.get(pk=1).certificate_expires_at

        html = client.get(CHANGE_URL).content.decode()

        assert (
            f"The certificate expires in 10 days, on {expires_at:%Y-%m-%d}. Renew it "
            "now: make a new key and certificate, upload the certificate to the "
            "connected app, then paste both here."
        ) in html

    def test_an_expired_certificate_shows_a_banner(self, client, admin_user):
        ConnectionSettings.objects.update_or_create(
            pk=1,
            defaults={"certificate_expires_at": dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)},
        )
        client.force_login(admin_user)

        html = client.get(CHANGE_URL).content.decode()

        assert (
            "The certificate expired on 2026-11-01: Salesforce refuses every token."
        ) in html

    def test_a_certificate_far_from_expiry_shows_no_banner(self, client, admin_user, key_pair):
        client.force_login(admin_user)
        client.post(CHANGE_URL, post_data(key_pair))

        assert "The certificate expires in" not in client.get(CHANGE_URL).content.decode()


class TestTestConnectionButton:
    def test_the_page_has_the_button(self, client, admin_user):
        client.force_login(admin_user)

        html = client.get(CHANGE_URL).content.decode()

        assert f'action="{TEST_URL}"' in html
        assert "Test connection</button>" in html

    def test_a_get_runs_nothing_and_leads_to_the_connection_page_with_a_message(
        self, client, admin_user
    ):
        client.force_login(admin_user)

        response = client.get(TEST_URL, follow=True)

        assert response.redirect_chain == [(CHANGE_URL, 302)]
        assert [str(m) for m in response.context["messages"]] == [
            "The connection test was not run: it runs when you press the Test "
            "connection button on this page."
        ]
        assert "The connection test was not run" in response.content.decode()

    def test_a_get_by_staff_without_the_permission_is_refused(self, client, plain_staff):
        client.force_login(plain_staff)

        assert client.get(TEST_URL).status_code == 403

    def test_it_runs_the_steps_and_shows_each(self, client, admin_user, key_pair):
        client.force_login(admin_user)
        client.post(CHANGE_URL, post_data(key_pair))

        with responses.RequestsMock() as mocked:
            mocked.post(
                "https://login.salesforce.com/services/oauth2/token",
                status=400,
                json={
                    "error": "invalid_grant",
                    "error_description": "user hasn't approved this consumer",
                },
            )
            response = client.post(TEST_URL)

        html = response.content.decode()
        assert response.status_code == 200
        assert "The connection does not work yet" in html
        assert "<td>Settings and private key</td>" in html
        assert "<td>Token request</td>" in html
        assert (
            "Salesforce refused the token: invalid_grant (user hasn&#x27;t approved "
            "this consumer)."
        ) in html
        assert "Admin approved users are pre-authorized" in html
