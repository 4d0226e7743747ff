"""The search form of the finder page: a plain GET form, validated like any
other so a hand-edited URL gets an explained answer instead of an error page."""

import copy

from django import forms

from activity_finder import search
from activity_finder.search import Criteria

SORT_CHOICES = [
    ("", "Best match"),
    ("start_date", "Start date"),
    ("start_time", "Start time"),
    ("title", "Title (A-Z)"),
    ("location", "Location (A-Z)"),
    ("relevance", "Relevance (with keywords)"),
]


class SearchForm(forms.Form):
    keywords = forms.CharField(
        label="Keywords", required=False, max_length=200, strip=True
    )
    ages = forms.TypedMultipleChoiceField(
        label="Age", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    days = forms.TypedMultipleChoiceField(
        label="Days",
        required=False,
        coerce=int,
        choices=[(n, name) for n, name in search.DAY_NAMES.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    times = forms.TypedMultipleChoiceField(
        label="Time of day",
        required=False,
        coerce=int,
        choices=[(n, name) for n, name in search.PART_NAMES.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    locations = forms.TypedMultipleChoiceField(
        label="Locations",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    programs = forms.TypedMultipleChoiceField(
        label="Programs",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.TypedMultipleChoiceField(
        label="Activities",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    open = forms.BooleanField(label="Registration open now", required=False)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)
    per_page = forms.TypedChoiceField(
        label="Results per page",
        required=False,
        coerce=int,
        empty_value=search.DEFAULT_PAGE_SIZE,
        choices=[(n, str(n)) for n in search.PAGE_SIZES],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100000)

    def __init__(self, data, *, catalogue):
        super().__init__(data)
        self.catalogue = catalogue
        for name, field in _catalogue_fields(catalogue).items():
            self.fields[name] = copy.deepcopy(field)

    def criteria(self):
        data = self.cleaned_data
        return Criteria(
            keywords=data["keywords"],
            ages=tuple(sorted(data["ages"])),
            days=tuple(sorted(data["days"])),
            times=tuple(sorted(data["times"])),
            locations=tuple(sorted(data["locations"])),
            programs=tuple(sorted(data["programs"])),
            subcategories=tuple(sorted(data["categories"])),
            open_now=data["open"],
            sort=data["sort"],
            page=data["page"] or 1,
            page_size=data["per_page"] or search.DEFAULT_PAGE_SIZE,
        )


# The fields whose choices come from the catalogue, prepared once per
# catalogue: setting choices normalizes every one of them, which cost more
# per request than copying fields that already hold them.
_prepared = (None, {})


def _catalogue_fields(catalogue):
    global _prepared
    found, fields = _prepared
    if found is catalogue:
        return fields
    base = SearchForm.base_fields
    fields = {
        name: copy.deepcopy(base[name])
        for name in ("ages", "locations", "programs", "categories")
    }
    fields["ages"].choices = list(catalogue.age_points)
    fields["locations"].choices = [
        (location.pk, location.title) for location in catalogue.locations
    ]
    fields["programs"].choices = [
        (program.pk, program.title) for program, _subs in catalogue.programs
    ]
    fields["categories"].choices = [
        (sub.pk, sub.title) for _program, subs in catalogue.programs for sub in subs
    ]
    _prepared = (catalogue, fields)
    return fields
