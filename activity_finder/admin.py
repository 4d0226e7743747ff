"""Admin for the PEF content and the finder's age points.

Imported content is edited in Traction Rec; here editors mostly publish or
unpublish it. Every save goes through cache.invalidate() so the finder shows
the change at once.
"""

from django.contrib import admin

from activity_finder import cache
from activity_finder.age_points import AgePoint
from activity_finder.models import (
    Activity,
    Class,
    Location,
    Program,
    ProgramSubcategory,
    Session,
    SessionTime,
)

IMPORTED_READONLY = ("sf_id", "created_by_import", "created_at", "updated_at")


class InvalidatingAdmin(admin.ModelAdmin):
    readonly_fields = IMPORTED_READONLY
    actions = ["publish", "unpublish"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        cache.invalidate()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        cache.invalidate()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        cache.invalidate()

    @admin.action(description="Publish the selected items")
    def publish(self, request, queryset):
        count = queryset.update(published=True)
        cache.invalidate()
        self.message_user(request, f"Published {count} item(s).")

    @admin.action(description="Unpublish the selected items")
    def unpublish(self, request, queryset):
        count = queryset.update(published=False)
        cache.invalidate()
        self.message_user(
            request, f"Unpublished {count} item(s); the finder no longer shows them."
        )


@admin.register(Location)
class LocationAdmin(InvalidatingAdmin):
    list_display = ("title", "kind", "city", "published", "sf_id")
    list_filter = ("kind", "published")
    search_fields = ("title", "city", "sf_id")


@admin.register(Program)
class ProgramAdmin(InvalidatingAdmin):
    list_display = ("title", "published", "sf_id")
    list_filter = ("published",)
    search_fields = ("title", "sf_id")


@admin.register(ProgramSubcategory)
class ProgramSubcategoryAdmin(InvalidatingAdmin):
    list_display = ("title", "program", "published", "sf_id")
    list_filter = ("published", "program")
    search_fields = ("title", "sf_id")
    list_select_related = ("program",)


@admin.register(Activity)
class ActivityAdmin(InvalidatingAdmin):
    list_display = ("title", "subcategory", "published", "sf_id")
    list_filter = ("published",)
    search_fields = ("title", "sf_id")
    list_select_related = ("subcategory",)
    raw_id_fields = ("subcategory",)


@admin.register(Class)
class ClassAdmin(InvalidatingAdmin):
    list_display = ("title", "activity", "published", "sf_id")
    list_filter = ("published",)
    search_fields = ("title", "sf_id")
    list_select_related = ("activity",)
    raw_id_fields = ("activity",)


class SessionTimeInline(admin.TabularInline):
    model = SessionTime
    extra = 0
    fields = (
        "start",
        "end",
        "start_time",
        "end_time",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    )


@admin.register(Session)
class SessionAdmin(InvalidatingAdmin):
    list_display = (
        "title",
        "location",
        "starts_at",
        "ends_at",
        "availability",
        "published",
        "sf_id",
    )
    list_filter = ("published", "online_registration", "location__kind")
    search_fields = ("title", "sf_id", "instructor")
    date_hierarchy = "starts_at"
    list_select_related = ("location",)
    raw_id_fields = ("session_class", "location")
    inlines = [SessionTimeInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Keep the first start and last end the finder filters on.
        session = form.instance
        times = list(session.times.all())
        session.starts_at = min((t.start for t in times), default=None)
        session.ends_at = max((t.end for t in times), default=None)
        session.save(update_fields=["starts_at", "ends_at"])
        cache.invalidate()


@admin.register(AgePoint)
class AgePointAdmin(admin.ModelAdmin):
    list_display = ("months", "display_label")
    ordering = ("months",)
    # Saves and deletes invalidate the cache through the post_save/post_delete
    # signals connected in apps.py.
