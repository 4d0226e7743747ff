import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from activity_finder.models import Location
from tests.traction_rec_import.import_support import sample_org_records, write_folder
from traction_rec_import.location_admin import LocationMappingForm
from traction_rec_import.models import FetchedLocation, LocationMapping

pytestmark = pytest.mark.django_db

SCREEN = "admin:traction_rec_import_fetchedlocation_changelist"
EVANSTON = "a0L5e0000HIhd4eEQB"
VIRTUAL = "a0L5e0000LrMyEPEQ0"


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("admin", "admin@ymca.example", "pw-admin")
    client.force_login(user)
    return client


@pytest.fixture
def fetched(sample_org_dir, settings):
    """The sample org's locations, as the last fetch (now in backups) saw them."""
    records = sample_org_records(sample_org_dir)
    folder = settings.TRACTION_REC_DATA_DIR / "backups" / "20261204T010000Z-a1b2c3"
    write_folder(folder, {"locations.json": records["locations.json"]})
    return folder


def rows_post(rows):
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows))}
    for index, (sf_id, location, create) in enumerate(rows):
        data[f"form-{index}-sf_id"] = sf_id
        data[f"form-{index}-location"] = "" if location is None else str(location)
        if create:
            data[f"form-{index}-create_branch"] = "on"
    return data


def read(admin_client):
    return admin_client.post(reverse("admin:traction_rec_import_fetchedlocation_read"))


def test_it_reads_the_locations_of_the_last_fetch(admin_client, fetched):
    response = read(admin_client)

    assert response.status_code == 302
    assert FetchedLocation.objects.count() == 8
    page = admin_client.get(reverse(SCREEN))
    assert "Read 8 locations from 20261204T010000Z-a1b2c3." in page.content.decode()


def test_it_lists_each_location_with_its_address_and_a_choice(admin_client, fetched):
    read(admin_client)
    downtown = Location.objects.create(title="Downtown YMCA")
    LocationMapping.objects.create(sf_location_id=EVANSTON, location=downtown)

    page = admin_client.get(reverse(SCREEN)).content.decode()

    assert "1000 Grove St, Evanston, IL 60201, United States" in page
    assert "(no address)" in page
    assert f"<code>{EVANSTON}</code>" in page
    assert f'<option value="{downtown.pk}" selected>Downtown YMCA (branch)</option>' in page
    assert page.count('class="location-row"') == 8


def test_it_saves_the_chosen_mapping_and_removes_a_cleared_one(admin_client, fetched):
    read(admin_client)
    annex = Location.objects.create(title="Evanston Annex", kind="facility")
    old = Location.objects.create(title="Old virtual room", kind="facility")
    LocationMapping.objects.create(sf_location_id=VIRTUAL, location=old)

    response = admin_client.post(
        reverse(SCREEN), rows_post([(EVANSTON, annex.pk, False), (VIRTUAL, None, False)])
    )

    assert response.status_code == 302
    assert dict(LocationMapping.objects.values_list("sf_location_id", "location")) == {
        EVANSTON: annex.pk
    }
    page = admin_client.get(reverse(SCREEN)).content.decode()
    assert "Saved: 1 mapped, 0 branches created, 1 unmapped." in page


def test_it_creates_a_branch_from_a_traction_rec_location(admin_client, fetched):
    read(admin_client)

    admin_client.post(reverse(SCREEN), rows_post([(EVANSTON, None, True)]))

    branch = Location.objects.get()
    assert (branch.kind, branch.title) == ("branch", "Evanston YMCA")
    assert branch.address == "1000 Grove St, Evanston, IL 60201"
    assert branch.country == "United States"
    assert LocationMapping.objects.get().location == branch


def test_it_refuses_to_create_a_second_location_with_the_same_title(
    admin_client, fetched
):
    read(admin_client)
    Location.objects.create(title="Evanston YMCA")

    response = admin_client.post(
        reverse(SCREEN), rows_post([(EVANSTON, None, True)]), follow=True
    )

    assert (
        "A location titled &#x27;Evanston YMCA&#x27; exists already; choose it "
        "instead of creating a branch." in response.content.decode()
    )
    assert Location.objects.count() == 1
    assert LocationMapping.objects.count() == 0


def test_it_refuses_a_choice_and_a_new_branch_together(admin_client, fetched):
    read(admin_client)
    downtown = Location.objects.create(title="Downtown YMCA")

    response = admin_client.post(
        reverse(SCREEN), rows_post([(EVANSTON, downtown.pk, True)])
    )

    assert response.status_code == 200
    assert "Choose one of our locations or create a branch, not both." in (
        response.content.decode()
    )
    assert LocationMapping.objects.count() == 0


def test_it_shows_the_screen_but_refuses_changes_without_permission(client, fetched):
    user = User.objects.create_user("viewer", password="pw-viewer", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_fetchedlocation")
    )
    client.force_login(user)

    assert client.get(reverse(SCREEN)).status_code == 200
    assert client.post(reverse(SCREEN), rows_post([])).status_code == 403
    assert read(client).status_code == 403


def test_it_says_when_there_is_no_fetch_yet(admin_client):
    response = read(admin_client)
    page = admin_client.get(reverse(SCREEN)).content.decode()

    assert response.status_code == 302
    assert "There is no fetch yet; run a fetch, then read its locations." in page
    assert "No Traction Rec locations yet" in page


@pytest.mark.parametrize(
    "pasted",
    ["  a0L5e0000HIhd4e  ", "a0L5e0000HIhd4eEQB", "a0L5e0000HIhd4eeqb\n"],
)
def test_it_normalises_a_pasted_id_to_eighteen_characters(pasted):
    location = Location.objects.create(title="Evanston YMCA")

    form = LocationMappingForm(data={"sf_location_id": pasted, "location": location.pk})

    assert form.is_valid(), form.errors
    assert form.save().sf_location_id == "a0L5e0000HIhd4eEQB"


def test_it_refuses_an_id_with_a_wrong_checksum():
    location = Location.objects.create(title="Evanston YMCA")

    form = LocationMappingForm(
        data={"sf_location_id": "a0L5e0000HIhd4eAAA", "location": location.pk}
    )

    assert not form.is_valid()
    assert form.errors["sf_location_id"] == [
        "'a0L5e0000HIhd4eAAA' is not a valid Salesforce Id: its last three "
        "characters should be 'EQB' for the first fifteen; check it was copied "
        "whole and with its case."
    ]


def test_it_refuses_text_that_is_not_an_id():
    location = Location.objects.create(title="Evanston YMCA")

    form = LocationMappingForm(
        data={"sf_location_id": "Evanston", "location": location.pk}
    )

    assert form.errors["sf_location_id"] == [
        "'Evanston' is not a Salesforce Id: an Id has 15 or 18 characters, this has 8."
    ]


def test_the_mapping_list_names_the_traction_rec_location(admin_client, fetched):
    read(admin_client)
    location = Location.objects.create(title="Evanston YMCA")
    LocationMapping.objects.create(sf_location_id=EVANSTON, location=location)

    page = admin_client.get(
        reverse("admin:traction_rec_import_locationmapping_changelist")
    ).content.decode()

    assert "Evanston YMCA" in page
    assert EVANSTON in page
