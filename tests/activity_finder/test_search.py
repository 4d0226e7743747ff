import pytest

from activity_finder import search
from activity_finder.search import Criteria


def titles(criteria):
    return [s.title for s in search.run(criteria).sessions]


def found(**criteria):
    return sorted(titles(Criteria(sort="title", **criteria)))


VISIBLE = [
    "Adult Lap Swim",
    "Parent & Tot Swim",
    "Preschool Swim",
    "Summer Day Camp",
    "Teen Swim Team",
    "Toddler Splash",
]


def test_it_shows_only_current_published_sessions_with_a_published_chain(finder):
    result = search.run(Criteria(sort="title"))

    assert [s.title for s in result.sessions] == VISIBLE
    assert result.count == 6
    assert result.pages == 1


def test_it_includes_both_edges_of_an_age_range(finder):
    assert found(ages=(36,)) == ["Parent & Tot Swim", "Preschool Swim"]
    assert found(ages=(216,)) == ["Adult Lap Swim", "Teen Swim Team"]
    assert found(ages=(6,)) == ["Parent & Tot Swim"]


def test_it_treats_a_blank_maximum_as_no_limit(finder):
    assert found(ages=(600,)) == ["Adult Lap Swim"]


def test_it_matches_a_narrow_session_to_the_nearest_point(finder):
    # Toddler Splash is 14-20 months: no point inside, 12 is nearer than 24.
    assert found(ages=(12,)) == ["Parent & Tot Swim", "Toddler Splash"]
    assert found(ages=(24,)) == ["Parent & Tot Swim"]


def test_it_matches_any_of_several_ages(finder):
    assert found(ages=(12, 216)) == [
        "Adult Lap Swim",
        "Parent & Tot Swim",
        "Teen Swim Team",
        "Toddler Splash",
    ]


def test_it_places_the_noon_and_five_pm_boundaries(finder):
    # 9:00-12:00 is morning only; 12:00-13:00 afternoon; 16:00-17:00 afternoon
    # only; 17:00-18:00 evening only.
    assert found(times=(1,)) == [
        "Parent & Tot Swim",
        "Summer Day Camp",
        "Toddler Splash",
    ]
    assert found(times=(2,)) == ["Preschool Swim", "Summer Day Camp", "Teen Swim Team"]
    assert found(times=(3,)) == ["Adult Lap Swim"]


def test_it_matches_day_and_time_on_the_same_slot(finder):
    # The camp meets Monday mornings and Saturday afternoons: never Monday afternoon.
    assert found(days=(1,), times=(2,)) == []
    assert found(days=(1,), times=(1,)) == ["Parent & Tot Swim", "Summer Day Camp"]
    assert found(days=(6,), times=(2,)) == ["Summer Day Camp"]
    assert found(daystimes=((1, 2),)) == []
    assert found(daystimes=((6, 2), (3, 0))) == ["Parent & Tot Swim", "Summer Day Camp"]


def test_it_filters_by_location_program_and_subcategory(finder):
    downtown = finder.locations.downtown.pk
    assert found(locations=(downtown,)) == [
        "Adult Lap Swim",
        "Parent & Tot Swim",
        "Toddler Splash",
    ]
    assert found(programs=(finder.programs.youth.pk,)) == ["Summer Day Camp"]
    assert found(subcategories=(finder.subcategories.lap.pk,)) == [
        "Adult Lap Swim",
        "Teen Swim Team",
    ]
    # A program and a subcategory of another program widen each other.
    assert found(
        programs=(finder.programs.youth.pk,),
        subcategories=(finder.subcategories.lap.pk,),
    ) == ["Adult Lap Swim", "Summer Day Camp", "Teen Swim Team"]


def test_it_keeps_sessions_whose_registration_is_open_now(finder):
    assert found(open_now=True) == [
        "Adult Lap Swim",
        "Parent & Tot Swim",
        "Preschool Swim",
        "Summer Day Camp",
    ]


def test_it_searches_keywords_over_the_whole_chain(finder):
    assert found(keywords="tot") == ["Parent & Tot Swim"]
    assert found(keywords="outdoor") == ["Summer Day Camp"]  # subcategory description
    assert found(keywords="water safety") == [
        "Adult Lap Swim",
        "Parent & Tot Swim",
        "Preschool Swim",
        "Teen Swim Team",
        "Toddler Splash",
    ]  # program description, every word must match
    assert found(keywords="aquatics camp") == []


def test_it_narrows_with_limitloc_and_excludeloc(finder):
    loc = finder.locations
    assert found(
        limitloc=(loc.westside.pk,), locations=(loc.westside.pk, loc.downtown.pk)
    ) == [
        "Preschool Swim",
        "Teen Swim Team",
    ]
    assert found(excludeloc=(loc.downtown.pk, loc.westside.pk)) == ["Summer Day Camp"]
    assert found(
        exclude=(finder.subcategories.lessons.pk,),
        limit=(finder.subcategories.lessons.pk, finder.subcategories.camp.pk),
    ) == ["Summer Day Camp"]


def test_it_counts_each_facet_given_the_other_filters(finder):
    loc = finder.locations
    result = search.run(Criteria(days=(1,), locations=(loc.downtown.pk,)))
    facets = result.facets

    assert result.count == 2  # Parent & Tot Swim, Adult Lap Swim
    # Days leave out the day filter but keep the location.
    assert facets["days"] == {1: 2, 2: 0, 3: 1, 4: 0, 5: 1, 6: 0, 7: 0}
    assert facets["times"] == {1: 1, 2: 0, 3: 1}
    # Locations leave out the location filter but keep Monday.
    assert facets["locations"] == {
        loc.downtown.pk: 2,
        loc.westside.pk: 0,
        loc.lakeview.pk: 1,
    }
    assert facets["ages"] == {6: 1, 12: 1, 24: 1, 36: 1, 72: 0, 156: 0, 216: 1}
    assert facets["subcategories"] == {
        finder.subcategories.lessons.pk: 1,
        finder.subcategories.lap.pk: 1,
        finder.subcategories.camp.pk: 0,
    }
    assert facets["programs"] == {
        finder.programs.aquatics.pk: 2,
        finder.programs.youth.pk: 0,
    }
    assert facets["open_now"] == 2


def test_it_counts_times_per_slot_when_a_day_is_chosen(finder):
    facets = search.run(Criteria(days=(6,))).facets

    assert facets["times"] == {1: 0, 2: 1, 3: 0}
    assert facets["days"] == {1: 3, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 0}


def test_it_sorts_by_each_field(finder):
    assert titles(Criteria(sort="start_time")) == [
        "Summer Day Camp",  # 7:00
        "Parent & Tot Swim",  # 9:00
        "Toddler Splash",  # 10:00
        "Preschool Swim",  # 12:00
        "Teen Swim Team",  # 16:00
        "Adult Lap Swim",  # 17:00
    ]
    assert titles(Criteria(sort="location")) == [
        "Summer Day Camp",  # Camp Lakeview
        "Adult Lap Swim",
        "Parent & Tot Swim",
        "Toddler Splash",
        "Preschool Swim",  # Westside
        "Teen Swim Team",
    ]
    assert titles(Criteria(sort="start_date"))[-1] == "Summer Day Camp"
    assert titles(Criteria(sort="title", descending=True))[0] == "Toddler Splash"
    assert titles(Criteria(keywords="swim", sort="relevance"))[:2] == [
        "Adult Lap Swim",
        "Parent & Tot Swim",
    ]


def test_it_pages_by_the_page_size(finder):
    first = search.run(Criteria(sort="title", page_size=4))
    second = search.run(Criteria(sort="title", page_size=4, page=2))
    beyond = search.run(Criteria(sort="title", page_size=4, page=3))

    assert [s.title for s in first.sessions] == VISIBLE[:4]
    assert [s.title for s in second.sessions] == VISIBLE[4:]
    assert (first.pages, second.count, beyond.sessions) == (2, 6, [])
    assert (
        search.run(Criteria(sort="title", page_size=4, page=3), clamp_page=True).page
        == 2
    )


def test_it_serves_a_cached_result_until_an_import_invalidates_it(finder):
    from activity_finder import cache

    before = search.run(Criteria())
    finder.tot.title = "Renamed"
    finder.tot.save()

    assert search.run(Criteria()) is not before  # a fresh object from the cache
    assert "Renamed" not in [s.title for s in search.run(Criteria()).sessions]

    cache.invalidate()

    assert "Renamed" in [s.title for s in search.run(Criteria()).sessions]


def test_it_does_not_cache_a_failed_search(finder, monkeypatch):
    calls = []
    original = search._facets

    def failing(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("database went away")

    monkeypatch.setattr(search, "_facets", failing)
    with pytest.raises(RuntimeError):
        search.run(Criteria())
    monkeypatch.setattr(search, "_facets", original)

    assert search.run(Criteria()).count == 6
    assert calls == [1]


def test_it_answers_a_search_with_one_query_once_the_index_is_built(
    finder, django_assert_num_queries
):
    with django_assert_num_queries(8):  # catalogue 4, index 3, page 1
        search.run(Criteria())

    with django_assert_num_queries(0):  # its sessions were loaded by the first
        search.run(
            Criteria(ages=(36,), days=(1, 2), locations=(finder.locations.downtown.pk,))
        )


def test_it_loads_only_the_page_sessions_not_loaded_before(
    finder, django_assert_num_queries
):
    first = search.run(Criteria(keywords="lap"))
    assert [s.title for s in first.sessions] == ["Adult Lap Swim", "Teen Swim Team"]

    with django_assert_num_queries(1):  # the sessions the first page lacked
        titles = [s.title for s in search.run(Criteria(sort="title")).sessions]

    assert titles == sorted(titles)
    assert len(titles) == 6


def test_it_shows_an_edited_session_after_the_cache_is_invalidated(finder):
    from activity_finder import cache

    search.run(Criteria())
    finder.lap.title = "Lap Swim for Adults"
    finder.lap.save()
    cache.invalidate()  # as every import and admin edit does

    titles = [s.title for s in search.run(Criteria()).sessions]

    assert "Lap Swim for Adults" in titles
    assert "Adult Lap Swim" not in titles


def test_it_rebuilds_the_index_after_the_cache_is_cleared(finder):
    from django.core.cache import cache as django_cache

    search.run(Criteria())
    finder.lap.published = False
    finder.lap.save()
    django_cache.clear()  # a restarted cache: the version starts at 1 again

    assert "Adult Lap Swim" not in [s.title for s in search.run(Criteria()).sessions]


def test_it_drops_a_session_when_its_end_passes(finder):
    import datetime as dt

    from django.utils import timezone

    ends = finder.tot.ends_at

    before = search.run(Criteria(), now=ends - dt.timedelta(minutes=1))
    after = search.run(Criteria(), now=ends)

    # Toddler Splash ended at 10:30 that day; Parent & Tot Swim ends at noon.
    assert sorted(s.title for s in before.sessions) == [
        "Adult Lap Swim",
        "Parent & Tot Swim",
        "Preschool Swim",
        "Summer Day Camp",
        "Teen Swim Team",
    ]
    assert "Parent & Tot Swim" not in [s.title for s in after.sessions]
    assert after.count == 4
    assert timezone.localtime(ends).isoformat() == "2027-03-01T12:00:00-06:00"


def test_an_admin_unpublish_reaches_the_finder(client, finder):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser(
        "admin", "admin@ymca.example", "pw"
    )
    client.force_login(admin)
    search.run(Criteria())

    client.post(
        "/admin/activity_finder/location/",
        {"action": "unpublish", "_selected_action": [finder.locations.lakeview.pk]},
    )

    assert "Summer Day Camp" not in [s.title for s in search.run(Criteria()).sessions]
