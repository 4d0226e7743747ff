"""The Program Event Framework content: what Traction Rec fills and the finder reads.

The chain a visitor sees is Program > Program Subcategory > Activity > Class >
Session, with a Location and one or more Session Times per session. Every row
the import writes keeps the Salesforce Id it came from; rows an editor makes by
hand have none.
"""

from django.db import models
from django.urls import reverse

WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class Imported(models.Model):
    sf_id = models.CharField(
        "Salesforce Id", max_length=18, unique=True, null=True, blank=True
    )
    published = models.BooleanField(default=True)
    # A digest of the source record: a re-import skips rows whose source did
    # not change.
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Rollback removes what the import created, never what an editor made.
    created_by_import = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Location(Imported):
    class Kind(models.TextChoices):
        BRANCH = "branch", "Branch"
        CAMP = "camp", "Camp"
        FACILITY = "facility", "Facility"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BRANCH)
    title = models.CharField(max_length=255)
    street = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=64, blank=True)
    postal_code = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    email = models.EmailField(blank=True)
    hours = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["kind", "title"])]

    def __str__(self):
        return self.title

    @property
    def address(self):
        """The postal address on one line, empty when none is known."""
        region = " ".join(part for part in (self.state, self.postal_code) if part)
        parts = [self.street, self.city, region]
        return ", ".join(part for part in parts if part)


class Program(Imported):
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title


class ProgramSubcategory(Imported):
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="subcategories"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "program subcategories"

    def __str__(self):
        return self.title


class Activity(Imported):
    subcategory = models.ForeignKey(
        ProgramSubcategory, on_delete=models.CASCADE, related_name="activities"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "activities"

    def __str__(self):
        return self.title


class Class(Imported):
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="classes"
    )
    title = models.CharField(max_length=255)
    # Sanitised HTML (an allow-list), safe to render as is.
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "classes"

    def __str__(self):
        return self.title


class Session(Imported):
    class Gender(models.TextChoices):
        ANY = "", "Any"
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        COED = "coed", "Co-ed"

    session_class = models.ForeignKey(
        Class, on_delete=models.CASCADE, related_name="sessions", verbose_name="class"
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="sessions"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    # Ages in months; a blank limit means none.
    min_age = models.PositiveIntegerField(null=True, blank=True)
    max_age = models.PositiveIntegerField(null=True, blank=True)
    online_registration = models.BooleanField(default=False)
    registration_link = models.URLField(max_length=2048, blank=True)
    registration_opens_at = models.DateTimeField(null=True, blank=True)
    registration_closes_at = models.DateTimeField(null=True, blank=True)
    instructor = models.CharField(max_length=255, blank=True)
    # Spots left: never negative (Traction Rec allows overbooking), 100 when
    # capacity is unlimited, as the Drupal module stored it.
    availability = models.IntegerField(default=0)
    unlimited_capacity = models.BooleanField(default=False)
    price_description = models.TextField(blank=True)
    wait_list_capacity = models.PositiveIntegerField(default=0)
    wait_list_unlimited = models.BooleanField(default=False)
    gender = models.CharField(
        max_length=16, choices=Gender.choices, blank=True, default=Gender.ANY
    )
    in_membership = models.BooleanField(default=False)
    member_price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    nonmember_price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    product_id = models.CharField(max_length=18, blank=True)
    # First start and last end over the session's times, kept by the import
    # so that "past sessions never appear" and date sorting are index scans.
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]
        indexes = [
            models.Index(fields=["published", "ends_at"]),
            models.Index(fields=["starts_at"]),
            models.Index(fields=["min_age", "max_age"]),
            models.Index(fields=["location", "published"]),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("activity_finder:session", args=[self.pk])


class SessionTime(models.Model):
    """One schedule line: a date range, a time of day and the weekdays it meets."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="times")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # Local wall-clock times of day, kept beside the aware datetimes so the
    # parts-of-day filter needs no time-zone arithmetic in SQL.
    start_time = models.TimeField()
    end_time = models.TimeField()
    monday = models.BooleanField(default=False)
    tuesday = models.BooleanField(default=False)
    wednesday = models.BooleanField(default=False)
    thursday = models.BooleanField(default=False)
    friday = models.BooleanField(default=False)
    saturday = models.BooleanField(default=False)
    sunday = models.BooleanField(default=False)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["start_time"])]

    def __str__(self):
        return f"{self.session_id}: {', '.join(self.days)} {self.start_time}"

    @property
    def days(self):
        return [day for day in WEEKDAYS if getattr(self, day)]

    @days.setter
    def days(self, names):
        chosen = set(names)
        unknown = chosen - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"Unknown weekday: {', '.join(sorted(unknown))}.")
        for day in WEEKDAYS:
            setattr(self, day, day in chosen)


# The finder's own settings live beside the content models (finder helper).
from activity_finder.age_points import AgePoint  # noqa: E402,F401
