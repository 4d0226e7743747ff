from django.contrib.auth import get_user_model

from activity_finder import cache, search
from activity_finder.age_points import AgePoint
from activity_finder.search import Criteria


def test_it_labels_a_point_from_its_months_unless_an_editor_wrote_one(db):
    assert str(AgePoint(months=18)) == "18 months"
    assert str(AgePoint(months=660)) == "55 years"
    assert (
        str(AgePoint(months=660, label="Active older adults")) == "Active older adults"
    )


def test_it_seeds_default_points_with_the_migration(db):
    assert list(AgePoint.objects.values_list("months", flat=True)) == [
        6,
        12,
        18,
        24,
        36,
        48,
        60,
        72,
        84,
        96,
        108,
        120,
        132,
        144,
        156,
        168,
        180,
        192,
        216,
        660,
    ]


def test_it_uses_a_new_point_at_once(finder):
    before = search.run(Criteria())
    version = cache.version()

    AgePoint.objects.create(months=18)

    after = search.run(Criteria())
    assert cache.version() == version + 1
    assert 18 not in before.facets["ages"]
    assert (
        after.facets["ages"][18] == 2
    )  # Parent & Tot Swim, and Toddler Splash (14-20)
    assert after.facets["ages"][12] == 1  # the toddler's nearest point is now 18


def test_it_lets_an_admin_edit_points(client, db):
    admin = get_user_model().objects.create_superuser(
        "admin", "admin@ymca.example", "pw"
    )
    client.force_login(admin)

    response = client.post(
        "/admin/activity_finder/agepoint/add/", {"months": "30", "label": ""}
    )
    listing = client.get("/admin/activity_finder/agepoint/")

    assert response.status_code == 302
    assert AgePoint.objects.filter(months=30).exists()
    assert "2 years 6 months" in listing.content.decode()
