"""The quick availability sync, against the local org on 127.0.0.1."""

import copy
import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from activity_finder import cache
from activity_finder.models import Session
from tests.traction_rec_import.import_support import (
    make_sample_locations,
    sample_org_folder,
)
from traction_rec.errors import TractionRecError
from traction_rec_import import availability, locks
from traction_rec_import.importer import run_import
from traction_rec_import.models import ImportRun

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)  # the sample org's anchor: dates as in the files
SWIM_OPTION = "a0O5e0000eYy3tqEAB"
UNLIMITED_OPTION = "a0O5e0000YWeoseEQB"


def option_record(org_dir, sf_id):
    records = json.loads((org_dir / "TREX1__Course_Option__c.json").read_text())
    return next(r for r in records["records"] if r["Id"] == sf_id)


@pytest.fixture
def org(sample_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    _, cert_pem = key_pair
    with running_org(
        sample_org_dir, certificate_pem=cert_pem, today=TODAY, page_size=100
    ) as handle:
        yield handle


@pytest.fixture
def connection(org, key_pair):
    from traction_rec.forms import ConnectionSettingsForm
    from traction_rec.models import ConnectionSettings

    key_pem, cert_pem = key_pair
    form = ConnectionSettingsForm(
        data={
            "consumer_key": "demo-consumer-key",
            "consumer_secret": "demo-secret",
            "login_user": "integration@ymca.example",
            "login_url": org.url,
            "services_base_url": f"{org.url}/services",
            "api_base_url": f"{org.url}/services/data/v62.0",
            "community_url": "https://ymca.my.site.com",
            "audience": "",
            "timeout": 10,
            "api_version": "v62.0",
            "private_key_source": "database",
            "private_key": key_pem,
            "private_key_path": "",
            "private_key_passphrase": "",
            "certificate": cert_pem,
        },
        instance=ConnectionSettings.load(),
    )
    assert form.is_valid(), form.errors
    return form.save()


@pytest.fixture
def imported(sample_org_dir, tmp_path, connection):
    make_sample_locations(sample_org_dir)
    run_import(directory=sample_org_folder(sample_org_dir, tmp_path / "fetch"))


def test_it_updates_only_availability_and_wait_lists_of_changed_options(
    sample_org_dir, org, imported
):
    swim = option_record(sample_org_dir, SWIM_OPTION)
    org.org.upsert(
        "TREX1__Course_Option__c",
        {**swim, "TREX1__Total_Capacity_Available__c": 4,
         "TREX1__Waitlist_Total__c": 0, "TREX1__Unlimited_Waitlist_Capacity__c": False,
         "Name": "Renamed in Traction Rec"},
    )  # fmt: skip
    unlimited = option_record(sample_org_dir, UNLIMITED_OPTION)
    org.org.upsert(
        "TREX1__Course_Option__c",
        {**unlimited, "TREX1__Unlimited_Capacity__c": False,
         "TREX1__Total_Capacity_Available__c": -3},
    )  # fmt: skip
    before = {
        row["sf_id"]: row
        for row in Session.objects.values()
        if row["sf_id"] not in (SWIM_OPTION, UNLIMITED_OPTION)
    }
    version = cache.version()

    result = availability.run_quick_sync()

    session = Session.objects.get(sf_id=SWIM_OPTION)
    assert session.availability == 4
    assert (session.wait_list_capacity, session.wait_list_unlimited) == (0, False)
    assert session.title == "Parent & Child Swim Tue 12:00 PM"
    other = Session.objects.get(sf_id=UNLIMITED_OPTION)
    assert (other.availability, other.unlimited_capacity) == (0, False)
    assert result.counts["session"]["updated"] == 2
    assert result.counts["session"]["skipped"] == 0
    untouched = {
        row["sf_id"]: row
        for row in Session.objects.values()
        if row["sf_id"] not in (SWIM_OPTION, UNLIMITED_OPTION)
    }
    assert untouched == before
    assert cache.version() == version + 1
    run = ImportRun.objects.get(pk=result.run_id)
    assert (run.kind, run.status) == (ImportRun.Kind.QUICK_SYNC, ImportRun.Status.COMPLETE)


def test_it_changes_nothing_when_traction_rec_fails(org, imported):
    org.faults.add("status", code=500, times=None)
    before = list(Session.objects.values())

    with pytest.raises(TractionRecError):
        availability.run_quick_sync()

    assert list(Session.objects.values()) == before
    run = ImportRun.objects.filter(kind=ImportRun.Kind.QUICK_SYNC).get()
    assert run.status == ImportRun.Status.FAILED
    assert run.error_message.startswith("The quick availability sync changed nothing: ")
    assert locks.Lock.objects.count() == 0


def test_it_applies_the_import_rules_to_records():
    from traction_rec_import.importer import new_counts

    counts, skips, unknown = availability.apply(
        [{"Id": "a0X", "Course_Option": {"Id": "unknown-option"}}]
    )

    assert counts == new_counts()["session"]
    assert (skips, unknown) == ([], 1)


def test_it_skips_an_option_with_an_unreadable_figure(imported):
    counts, skips, _ = availability.apply(
        [{"Course_Option": {"Id": SWIM_OPTION, "Total_Capacity_Available": "many"}}]
    )

    assert counts["skipped"] == 1
    assert skips == [
        ("session", SWIM_OPTION, "Total_Capacity_Available 'many' is not a number.")
    ]


def test_the_command_prints_a_summary(org, imported, capsys):
    call_command("tr_quick_availability_sync")

    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("Quick availability sync #")
    assert out[-1].endswith(" 0 sessions updated, 294 unchanged, 0 skipped.")


def test_the_command_refuses_while_an_import_runs(org, imported):
    with locks.hold(locks.IMPORT):
        with pytest.raises(CommandError, match="^Another run holds the import lock"):
            call_command("tr_quick_availability_sync")
