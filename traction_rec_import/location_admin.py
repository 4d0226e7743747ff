"""The location mapping screen: Traction Rec locations to our Locations.

"Traction Rec locations" in admin lists every location of the last fetch
with its address, a choice of our Location and a "create a branch from it"
box, all saved with one button. The import places a session by this mapping
first and by an exact title match second. "Location mappings" keeps the
plain list, where an Id can be pasted: it is trimmed, checked and stored in
its 18-character form, the form the fetch writes.
"""

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms import formset_factory
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from activity_finder.models import Location
from traction_rec_import.models import FetchedLocation, LocationMapping

logger = logging.getLogger(__name__)

CHANGE_PERMISSION = "traction_rec_import.change_locationmapping"


def normalize_id(value):
    """The 18-character form of a pasted Salesforce Id; ValidationError if not one."""
    from traction_rec.soql import normalize_id as normalize

    try:
        return normalize(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_id") from None


class LocationMappingForm(forms.ModelForm):
    class Meta:
        model = LocationMapping
        fields = ["sf_location_id", "location"]
        help_texts = {
            "sf_location_id": "Paste the Id from Traction Rec (15 or 18 characters)."
        }

    def clean_sf_location_id(self):
        return normalize_id(self.cleaned_data["sf_location_id"])


@admin.register(LocationMapping)
class LocationMappingAdmin(admin.ModelAdmin):
    form = LocationMappingForm
    list_display = ["sf_location_id", "traction_rec_name", "location"]
    list_select_related = ["location"]
    search_fields = ["sf_location_id", "location__title"]
    autocomplete_fields = []

    @admin.display(description="Traction Rec name")
    def traction_rec_name(self, mapping):
        fetched = FetchedLocation.objects.filter(sf_id=mapping.sf_location_id).first()
        return fetched.name if fetched else "(not in the last fetch)"


class MappingRowForm(forms.Form):
    """One Traction Rec location: which of our Locations it is."""

    sf_id = forms.CharField(widget=forms.HiddenInput)
    location = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    create_branch = forms.BooleanField(required=False, label="Create a branch from it")

    def __init__(self, *args, location_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [("", "Not mapped")] + list(location_choices)

    def clean_sf_id(self):
        sf_id = normalize_id(self.cleaned_data["sf_id"])
        if not FetchedLocation.objects.filter(sf_id=sf_id).exists():
            raise ValidationError(
                "This Traction Rec location is no longer listed; reload the page."
            )
        return sf_id

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("create_branch") and cleaned.get("location"):
            raise ValidationError(
                "Choose one of our locations or create a branch, not both."
            )
        return cleaned


MappingFormSet = formset_factory(MappingRowForm, extra=0)


def newest_fetch_folder():
    """The newest published folder in fetch/ or backups/, or None."""
    from traction_rec_import import storage

    folders = storage.published_folders() + storage.published_folders(
        storage.backup_root()
    )
    return max(folders, key=lambda folder: folder.name, default=None)


def read_last_fetch():
    """Load locations.json of the newest fetch; (folder, count) or (None, 0)."""
    from traction_rec_import import sources
    from traction_rec_import.importer import save_fetched_locations

    folder = newest_fetch_folder()
    if folder is None:
        return None, 0
    records = sources.FetchFolder(folder).records(sources.LOCATIONS)
    return folder, save_fetched_locations(records, folder)


def apply_rows(rows):
    """Save the screen's choices; returns (mapped, created, unmapped) counts."""
    current = {m.sf_location_id: m for m in LocationMapping.objects.all()}
    fetched = {f.sf_id: f for f in FetchedLocation.objects.all()}
    mapped = created = unmapped = 0
    for row in rows:
        sf_id, location_id = row["sf_id"], row["location"]
        if row["create_branch"]:
            source = fetched[sf_id]
            if Location.objects.filter(title=source.name).exists():
                raise ValidationError(
                    f"A location titled {source.name!r} exists already; choose it "
                    "instead of creating a branch."
                )
            branch = Location.objects.create(
                kind=Location.Kind.BRANCH,
                title=source.name,
                street=source.street,
                city=source.city,
                state=source.state,
                postal_code=source.postal_code,
                country=source.country,
            )
            location_id = branch.pk
            created += 1
        existing = current.get(sf_id)
        if location_id is None:
            if existing is not None:
                existing.delete()
                unmapped += 1
            continue
        if existing is None:
            LocationMapping.objects.create(
                sf_location_id=sf_id, location_id=location_id
            )
            mapped += 1
        elif existing.location_id != location_id:
            existing.location_id = location_id
            existing.save(update_fields=["location"])
            mapped += 1
    return mapped, created, unmapped


@admin.register(FetchedLocation)
class FetchedLocationAdmin(admin.ModelAdmin):
    """The mapping screen itself, in place of a change list."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(CHANGE_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(CHANGE_PERMISSION) or super().has_view_permission(
            request, obj
        )

    def get_urls(self):
        return [
            path(
                "read-last-fetch/",
                self.admin_site.admin_view(require_POST(self.read_last_fetch_view)),
                name="traction_rec_import_fetchedlocation_read",
            ),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(self._list_url())

    def _list_url(self):
        return reverse("admin:traction_rec_import_fetchedlocation_changelist")

    def read_last_fetch_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        folder, count = read_last_fetch()
        if folder is None:
            messages.warning(
                request, "There is no fetch yet; run a fetch, then read its locations."
            )
        else:
            messages.success(request, f"Read {count} locations from {folder.name}.")
        return HttpResponseRedirect(self._list_url())

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        fetched = list(FetchedLocation.objects.order_by("name", "sf_id"))
        mapped = dict(
            LocationMapping.objects.values_list("sf_location_id", "location_id")
        )
        choices = [
            (pk, f"{title} ({Kind(kind).label.lower()})")
            for pk, title, kind in Location.objects.order_by("title").values_list(
                "pk", "title", "kind"
            )
        ]
        initial = [
            {"sf_id": row.sf_id, "location": mapped.get(row.sf_id)} for row in fetched
        ]
        form_kwargs = {"location_choices": choices}

        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            formset = MappingFormSet(
                request.POST, initial=initial, form_kwargs=form_kwargs
            )
            if formset.is_valid():
                try:
                    with transaction.atomic():
                        counts = apply_rows(
                            form.cleaned_data for form in formset.forms
                        )
                except ValidationError as exc:
                    messages.error(request, " ".join(exc.messages))
                else:
                    logger.info(
                        "location mapping saved mapped=%s created=%s unmapped=%s",
                        *counts,
                    )
                    messages.success(
                        request,
                        "Saved: {} mapped, {} branches created, {} unmapped.".format(
                            *counts
                        ),
                    )
                    return HttpResponseRedirect(self._list_url())
        else:
            formset = MappingFormSet(initial=initial, form_kwargs=form_kwargs)

        rows = list(zip(fetched, formset.forms))
        context = {
            **self.admin_site.each_context(request),
            "title": "Traction Rec locations",
            "opts": self.model._meta,
            "formset": formset,
            "rows": rows,
            "can_change": self.has_change_permission(request),
            "read_url": reverse("admin:traction_rec_import_fetchedlocation_read"),
            **(extra_context or {}),
        }
        return TemplateResponse(
            request, "traction_rec_import/admin/location_mapping.html", context
        )


Kind = Location.Kind
