"""The Drupal module's own 2021 export: older layout, nulls, unpadded times."""

import datetime as dt

import pytest
from django.utils import timezone

from activity_finder.models import Location, Program, ProgramSubcategory, Session
from traction_rec_import.importer import run_import
from traction_rec_import.models import LocationMapping, SkippedRecord

pytestmark = pytest.mark.django_db

BRANCHES = (
    "Bremerton Family YMCA",
    "Haselwood Family YMCA",
    "Lakewood Family YMCA",
    "Mel Korum Family YMCA",
    "Morgan Family YMCA",
    "Tom Taylor Family YMCA",
)
# Child care sites an admin mapped by their Traction Rec Id.
MAPPED_SITES = (
    "a2w3p000003qYyLAAU",
    "a2w3p000003qYyRAAU",
    "a2w3p000003qYyXAAU",
    "a2w3p000003qYyZAAU",
    "a2w3p000003qYyMAAU",
    "a2w3p000003qYyCAAU",
    "a2w3p000003qYyfAAE",
    "a2w3p000003qYyhAAE",
    "a2w3p000003qYyAAAU",
    "a2w3p000003qYyFAAU",
    "a2w3p000003qYyGAAU",
    "a2w3p000003qYyJAAU",
    "a2w3p000003qYySAAU",
    "a2w3p000003qYyaAAE",
    "a2w3p000003qYylAAE",
)

UNPLACED = (
    "Its location {name!r} ({id}) is not mapped and matches none of our branches "
    "or camps by title; map it under Traction Rec locations in admin, or create "
    "a branch from it."
)


@pytest.fixture
def places():
    for title in BRANCHES:
        Location.objects.create(title=title)
    sites = Location.objects.create(title="Child care sites", kind="facility")
    for sf_id in MAPPED_SITES:
        LocationMapping.objects.create(sf_location_id=sf_id, location=sites)
    return sites


def test_it_imports_the_drupal_export_and_skips_each_unplaced_session_with_its_reason(
    drupal_export_dir, places
):
    result = run_import(directory=drupal_export_dir)

    assert result.counts == {
        "program": {"created": 5, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 0},
        "subcategory": {"created": 16, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 0},
        "activity": {"created": 31, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 0},
        "class": {"created": 31, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 0},
        "session": {"created": 51, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 9},
    }  # fmt: skip
    rainier = UNPLACED.format(
        name="CCS-FPSD-Rainier View Christian Church", id="a2w3p000003qYyNAAU"
    )
    early = UNPLACED.format(
        name="CCS-PRE-K-YMCA Early Learning Center- University Place",
        id="a2w3p000003qYymAAE",
    )
    gordon = UNPLACED.format(name="Gordon Family YMCA", id="a2w3p000003qYyoAAE")
    skips = list(
        SkippedRecord.objects.filter(run_id=result.run_id).values_list(
            "model", "sf_id", "reason"
        )
    )
    assert skips == [
        ("session", "a2O3p000004RdiXEAS", early),
        ("session", "a2O3p000004RdjTEAS", rainier),
        ("session", "a2O3p000004RdjfEAC", rainier),
        ("session", "a2O3p000004RdjpEAC", rainier),
        ("session", "a2O3p000004RdjtEAC", rainier),
        ("session", "a2O3p000004RdmOEAS", early),
        ("session", "a2O3p000004ReTEEA0", gordon),
        ("session", "a2O3p000004ReTQEA0", gordon),
        ("session", "a2O3p000004ReVXEA0", gordon),
    ]
    # Without a manifest every present file counts as complete.
    assert result.complete is True


def test_it_reads_the_older_layout_with_bare_parent_ids(drupal_export_dir, places):
    run_import(directory=drupal_export_dir)

    swim = ProgramSubcategory.objects.get(sf_id="a3H3p00000CpJjwEAF")
    assert swim.title == "Parent/Child Swim Lessons"
    assert swim.program.title == "Aquatics"
    # The export has no Available flags: missing means published.
    assert set(Program.objects.values_list("published", flat=True)) == {True}


def test_it_fills_defaults_for_an_option_with_nulls(drupal_export_dir, places):
    run_import(directory=drupal_export_dir)

    session = Session.objects.get(sf_id="a2O3p000004RdojEAC")
    assert session.title == "Green MT | Feb 1st Week"
    assert (session.min_age, session.max_age) == (None, None)
    assert (session.availability, session.unlimited_capacity) == (100, True)
    assert session.instructor == ""
    assert session.description == ""
    assert session.price_description == "Included in Tuition"
    assert session.registration_link == ""  # the export has no course session Id
    assert session.location == places
    (time,) = session.times.all()
    assert timezone.localtime(time.start).isoformat() == "2021-02-01T07:00:00-06:00"
    assert timezone.localtime(time.end).isoformat() == "2021-02-05T23:59:00-06:00"
    assert time.days == ["monday", "tuesday", "wednesday", "thursday", "friday"]


def test_it_reads_lower_case_times_across_the_2021_switch(drupal_export_dir, places):
    run_import(directory=drupal_export_dir)

    (time,) = Session.objects.get(sf_id="a2O3p000004RdkhEAC").times.all()
    assert (time.start_time, time.end_time) == (dt.time(7, 0), dt.time(12, 0))
    assert timezone.localtime(time.start).isoformat() == "2021-02-01T07:00:00-06:00"
    assert timezone.localtime(time.end).isoformat() == "2021-06-21T12:00:00-05:00"
    assert time.days == ["thursday"]


def test_it_maps_ages_availability_and_the_plain_course_description(
    drupal_export_dir, places
):
    run_import(directory=drupal_export_dir)

    haselwood = Session.objects.get(sf_id="a2O3p000004ReYWEA0")
    assert (haselwood.min_age, haselwood.max_age) == (108, 120)
    assert haselwood.availability == 6
    assert (haselwood.times.get().start_time, haselwood.times.get().end_time) == (
        dt.time(14, 30),
        dt.time(15, 30),
    )
    drawing = Session.objects.get(sf_id="a2O3p000004ReVBEA0")
    assert drawing.description == (
        "Drawing Level 1 students learn basic drawing techniques and create pencil "
        "and charcoal drawings from photographs and live scenery."
    )
    assert drawing.session_class.title == "Drawing"
    full = Session.objects.get(sf_id="a2O3p000004ReI3EAK")
    assert full.availability == 0
    assert full.online_registration is True
    closed = Session.objects.get(sf_id="a2O3p000004ReKoEAK")
    assert closed.online_registration is False


def test_it_finds_nothing_changed_when_the_export_is_imported_again(
    drupal_export_dir, places
):
    run_import(directory=drupal_export_dir)

    again = run_import(directory=drupal_export_dir)

    assert again.counts["session"] == {
        "created": 0, "updated": 0, "unchanged": 51, "removed": 0, "skipped": 9,
    }  # fmt: skip
    assert again.counts["class"]["unchanged"] == 31
