"""Fixtures of the ops tests: the three kinds of admin user, and the local
org with a saved connection (the way the admin's form saves it)."""

import datetime as dt

import pytest

TODAY = dt.date(2026, 12, 1)  # the sample org's anchor date: no date shift
CONSUMER_KEY = "ops-consumer-key"
USERNAME = "integration@ymca-ops.example"


def connection_data(url, key_pem, cert_pem):
    return {
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": "ops-secret",
        "login_user": USERNAME,
        "login_url": url,
        "services_base_url": f"{url}/services",
        "api_base_url": f"{url}/services/data/v62.0",
        "community_url": "https://ymca-ops.my.site.com",
        "audience": "",
        "timeout": 10,
        "api_version": "v62.0",
        "private_key_source": "database",
        "private_key": key_pem,
        "private_key_path": "",
        "private_key_passphrase": "",
        "certificate": cert_pem,
    }


def save_connection(url, key_pem, cert_pem):
    from traction_rec.forms import ConnectionSettingsForm
    from traction_rec.models import ConnectionSettings

    form = ConnectionSettingsForm(
        data=connection_data(url, key_pem, cert_pem),
        instance=ConnectionSettings.load(),
    )
    assert form.is_valid(), form.errors
    return form.save()


def create_branches(org_dir):
    """Our locations, titled as in Traction Rec so the import matches them."""
    import json

    from activity_finder.models import Location

    records = json.loads((org_dir / "TREX1__Location__c.json").read_text())["records"]
    for record in records:
        kind = Location.Kind.CAMP if "Camp" in record["Name"] else Location.Kind.BRANCH
        Location.objects.create(title=record["Name"], kind=kind)


@pytest.fixture
def org(sample_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    _, cert_pem = key_pair
    with running_org(
        sample_org_dir,
        certificate_pem=cert_pem,
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        today=TODAY,
        page_size=100,
    ) as handle:
        yield handle


@pytest.fixture
def connection(org, key_pair):
    key_pem, cert_pem = key_pair
    return save_connection(org.url, key_pem, cert_pem)


@pytest.fixture
def branches(sample_org_dir):
    create_branches(sample_org_dir)


def _user(username, *, staff, permissions=()):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(username, password="pw-" + username)
    user.is_staff = staff
    user.save()
    for codename in permissions:
        app_label, codename = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def operator(db):
    """Staff with the operate_sync permission (and the right to see runs)."""
    return _user(
        "operator",
        staff=True,
        permissions=[
            "traction_rec_import.operate_sync",
            "traction_rec_import.view_importrun",
        ],
    )


@pytest.fixture
def viewer(db):
    """Staff who may see the runs but not operate."""
    return _user(
        "viewer", staff=True, permissions=["traction_rec_import.view_importrun"]
    )


@pytest.fixture
def outsider(db):
    """Not staff, though granted the permission: the admin still refuses."""
    return _user(
        "outsider",
        staff=False,
        permissions=[
            "traction_rec_import.operate_sync",
            "traction_rec_import.view_importrun",
        ],
    )
