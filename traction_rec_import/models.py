"""Bookkeeping for fetch and import: settings, runs, skips, locks, location mapping."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class ImportSettings(models.Model):
    """The admin-editable switches; one row, fetched with ImportSettings.load()."""

    class Removal(models.TextChoices):
        DELETE = "delete", "Delete rows whose source is gone"
        UNPUBLISH = "unpublish", "Unpublish rows whose source is gone"

    fetch_enabled = models.BooleanField(default=True)
    import_enabled = models.BooleanField(default=True)
    keep_backups = models.BooleanField(
        default=True, help_text="Move each imported fetch folder to the backup area."
    )
    backups_to_keep = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    sync_safety_share = models.PositiveSmallIntegerField(
        "sync safety share (%)",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=(
            "A sync that would remove more than this share of any type refuses "
            "to run unless forced."
        ),
    )
    removal = models.CharField(
        max_length=16, choices=Removal.choices, default=Removal.DELETE
    )

    class Meta:
        verbose_name = "import settings"
        verbose_name_plural = "import settings"

    def __str__(self):
        return "Import settings"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings


class ImportRun(models.Model):
    """One fetch, import, quick sync, clean-up or rollback, as an operator sees it."""

    class Kind(models.TextChoices):
        FETCH = "fetch", "Fetch"
        IMPORT = "import", "Import"
        QUICK_SYNC = "quick_sync", "Quick availability sync"
        CLEAN_UP = "clean_up", "Clean-up"
        ROLLBACK = "rollback", "Rollback"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The fetch folder written or read.
    source_dir = models.CharField(max_length=1024, blank=True)
    # Flags the run was started with: sync, update, force, dry_run.
    options = models.JSONField(default=dict, blank=True)
    # Per model: {"session": {"created": 3, "updated": 1, ...}}.
    counts = models.JSONField(default=dict, blank=True)
    # A copy of the fetch manifest (statuses, counts, checksums, API usage).
    manifest = models.JSONField(default=dict, blank=True)
    # What an operator reads when it failed: the Salesforce errorCode (or our
    # own code), the message, and what to change.
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    hint = models.TextField(blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    task_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["kind", "status", "-started_at"])]
        permissions = [
            ("operate_sync", "Can run fetch, import and lock operations"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def duration(self):
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class SkippedRecord(models.Model):
    """A source record a run did not import, with the reason an operator can act on."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="skips")
    model = models.CharField(max_length=32)
    sf_id = models.CharField("Salesforce Id", max_length=32, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["model", "sf_id"]

    def __str__(self):
        return f"{self.model} {self.sf_id}: {self.reason}"


class Lock(models.Model):
    """A named lock held by one process; see traction_rec_import.locks."""

    name = models.CharField(max_length=64, primary_key=True)
    owner_host = models.CharField(max_length=255)
    owner_pid = models.PositiveIntegerField()
    owner_task = models.CharField(max_length=255, blank=True)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} held by {self.owner_host}:{self.owner_pid}"


class LocationMapping(models.Model):
    """A Traction Rec location an admin pointed at one of our Locations."""

    sf_location_id = models.CharField(
        "Traction Rec location Id", max_length=18, unique=True
    )
    location = models.ForeignKey(
        "activity_finder.Location",
        on_delete=models.CASCADE,
        related_name="traction_rec_mappings",
    )

    class Meta:
        ordering = ["sf_location_id"]

    def __str__(self):
        return f"{self.sf_location_id} -> {self.location}"


class FetchedLocation(models.Model):
    """A Traction Rec location as the last fetch saw it, for the mapping screen."""

    sf_id = models.CharField("Traction Rec location Id", max_length=18, unique=True)
    name = models.CharField(max_length=255)
    street = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=64, blank=True)
    postal_code = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=64, blank=True)
    # The fetch folder the row was last read from.
    source_dir = models.CharField(max_length=1024, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = "Traction Rec location"

    def __str__(self):
        return f"{self.name} ({self.sf_id})"

    @property
    def address(self):
        """The postal address on one line, empty when none is known."""
        region = " ".join(part for part in (self.state, self.postal_code) if part)
        parts = [self.street, self.city, region, self.country]
        return ", ".join(part for part in parts if part)
