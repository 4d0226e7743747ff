import pytest

from traction_rec.models import ConnectionSettings, derive_audience

pytestmark = pytest.mark.django_db


def test_load_creates_the_one_row_once():
    first = ConnectionSettings.load()
    second = ConnectionSettings.load()

    assert first.pk == second.pk == 1
    assert ConnectionSettings.objects.count() == 1


def test_saving_another_instance_updates_the_one_row():
    ConnectionSettings(consumer_key="a").save()
    ConnectionSettings(consumer_key="b").save()

    assert list(ConnectionSettings.objects.values_list("pk", "consumer_key")) == [(1, "b")]


def test_the_defaults_match_the_contract():
    connection = ConnectionSettings.load()

    assert (connection.timeout, connection.api_version, connection.private_key_source) == (
        90,
        "v62.0",
        "database",
    )
    assert connection.login_url == ""


def test_repr_and_str_never_show_a_secret(key_pair):
    connection = ConnectionSettings(
        consumer_key="3MVG9-consumer",
        consumer_secret="F00-consumer-secret",
        login_user="integration@ymca.org",
        login_url="https://login.salesforce.com",
        private_key=key_pair[0],
        private_key_passphrase="pass-phrase-1",
    )

    shown = repr(connection) + str(connection)

    assert shown == (
        "<ConnectionSettings login_url='https://login.salesforce.com' "
        "login_user='integration@ymca.org' source='database'>Traction Rec connection"
    )


def test_secrets_are_encrypted_at_rest(key_pair):
    from django.db import connection as db

    ConnectionSettings(
        consumer_secret="F00-consumer-secret",
        private_key=key_pair[0],
        private_key_passphrase="pass-phrase-1",
    ).save()

    with db.cursor() as cursor:
        cursor.execute(
            "SELECT consumer_secret, private_key, private_key_passphrase "
            "FROM traction_rec_connectionsettings"
        )
        raw = b"".join(bytes(value) for value in cursor.fetchone())
    stored = ConnectionSettings.objects.get()

    assert b"F00-consumer-secret" not in raw
    assert b"pass-phrase-1" not in raw
    assert b"BEGIN PRIVATE KEY" not in raw
    assert (stored.consumer_secret, stored.private_key_passphrase) == (
        "F00-consumer-secret",
        "pass-phrase-1",
    )


@pytest.mark.parametrize(
    "login_url, audience",
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://ymca.my.salesforce.com", "https://login.salesforce.com"),
        ("https://ymca--dev.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://YMCA--Dev.Sandbox.My.Salesforce.com", "https://test.salesforce.com"),
        ("http://127.0.0.1:8123", "https://login.salesforce.com"),
        ("", "https://login.salesforce.com"),
    ],
)
def test_the_audience_is_derived_from_the_login_url(login_url, audience):
    assert derive_audience(login_url) == audience


def test_a_stored_audience_wins():
    connection = ConnectionSettings(
        login_url="https://ymca--dev.sandbox.my.salesforce.com",
        audience="https://login.salesforce.com",
    )

    assert connection.effective_audience == "https://login.salesforce.com"
