"""Import admin: the settings, the run list, and the operation buttons.

The buttons sit on the Import Run list. Each is a POST form (CSRF-checked);
the destructive ones (import, fetch and import, reset lock) first show a
confirmation page. Only staff with the `operate_sync` permission see or use
them. Tasks are sent after the request's transaction commits, so a worker
never starts on data it cannot see yet.
"""

import json
import logging
import uuid
from dataclasses import dataclass

from celery.exceptions import Retry
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError as BrokerError

# The location mapping screen registers itself.
from traction_rec_import import location_admin  # noqa: F401
from traction_rec_import import locks, tasks
from traction_rec_import.models import ImportRun, ImportSettings, Lock, SkippedRecord

logger = logging.getLogger(__name__)

OPERATE_PERMISSION = "traction_rec_import.operate_sync"
# A run page lists this many skips; the rest are one click away.
SKIPS_ON_RUN_PAGE = 200


@admin.register(ImportSettings)
class ImportSettingsAdmin(admin.ModelAdmin):
    fieldsets = [
        ("Switches", {"fields": ["fetch_enabled", "import_enabled"]}),
        ("Backups", {"fields": ["keep_backups", "backups_to_keep"]}),
        ("Sync", {"fields": ["sync_safety_share", "removal"]}),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        # The one row exists from its first visit, whoever asked first.
        if object_id == "1":
            return ImportSettings.load()
        return None

    def changelist_view(self, request, extra_context=None):
        # One row: the list is the settings page itself.
        settings = ImportSettings.load()
        url = reverse(
            "admin:traction_rec_import_importsettings_change", args=[settings.pk]
        )
        return HttpResponseRedirect(url)


class ImportOptionsForm(forms.Form):
    sync = forms.BooleanField(
        required=False,
        help_text="Remove (or unpublish) rows whose source is gone.",
    )
    update = forms.BooleanField(
        required=False,
        help_text="Overwrite rows whose source did not change; local edits are lost.",
    )
    force = forms.BooleanField(
        required=False,
        help_text="Run the sync even when it would remove more than the safety share.",
    )

    def clean(self):
        options = super().clean()
        if options.get("force") and not options.get("sync"):
            raise forms.ValidationError(
                "Force only applies to a sync; tick Sync as well, or untick Force."
            )
        return options


class ResetLockForm(forms.Form):
    lock = forms.ChoiceField(
        choices=[(locks.FETCH, "Fetch lock"), (locks.IMPORT, "Import lock")]
    )


@dataclass(frozen=True)
class Operation:
    slug: str
    label: str
    # Destructive operations change the catalogue or a lock: confirm first.
    destructive: bool
    explanation: str
    task: object = None
    form_class: type = None


OPERATIONS = {
    operation.slug: operation
    for operation in [
        Operation(
            "test-connection",
            "Test connection",
            False,
            "Requests a token and runs one query per object the import needs.",
        ),
        Operation(
            "fetch",
            "Fetch now",
            False,
            "Fetches what Traction Rec holds into a new folder; the site is unchanged.",
            task=tasks.fetch,
        ),
        Operation(
            "import",
            "Import latest",
            True,
            "Imports the newest published fetch folder into the site's programs, "
            "classes and sessions.",
            task=tasks.run_import,
            form_class=ImportOptionsForm,
        ),
        Operation(
            "fetch-and-import",
            "Fetch and import now",
            True,
            "Fetches from Traction Rec and, when every object was fetched "
            "completely, imports the result into the site.",
            task=tasks.fetch_and_import,
            form_class=ImportOptionsForm,
        ),
        Operation(
            "quick-sync",
            "Quick availability sync",
            False,
            "Refreshes the availability and wait-list figures of existing sessions.",
            task=tasks.quick_availability_sync,
        ),
        Operation(
            "reset-lock",
            "Reset lock",
            True,
            "Clears a fetch or import lock. Use it only for a lock whose run you "
            "know is dead: a live run whose lock is cleared can overlap the next.",
            form_class=ResetLockForm,
        ),
    ]
}


def _run_link(run_id):
    url = reverse("admin:traction_rec_import_importrun_change", args=[run_id])
    return format_html('<a href="{}">run #{}</a>', url, run_id)


def _run_ids(result):
    """The run ids in a task's result, in the order the task recorded them."""
    if not isinstance(result, dict):
        return []
    ids = [result["run_id"]] if result.get("run_id") else []
    for part in ("fetch", "import"):
        ids += _run_ids(result.get(part))
    return ids


class SkippedRecordInlineList:
    """Renders a run's skips as a table (an inline would load them all)."""

    @staticmethod
    def render(run):
        skips = run.skips.all()
        total = skips.count()
        if not total:
            return "None."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((s.model, s.sf_id or "-", s.reason) for s in skips[:SKIPS_ON_RUN_PAGE]),
        )
        table = format_html(
            "<table><thead><tr><th>Model</th><th>Salesforce Id</th><th>Reason</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )
        if total <= SKIPS_ON_RUN_PAGE:
            return table
        url = reverse("admin:traction_rec_import_skippedrecord_changelist")
        return format_html(
            '{}<p>Showing {} of {}. <a href="{}?run__id__exact={}">All skipped '
            "records of this run</a>.</p>",
            table,
            SKIPS_ON_RUN_PAGE,
            total,
            url,
            run.pk,
        )


# The order counts read in, whatever order the database kept the JSON keys
# in (PostgreSQL's jsonb sorts them its own way).
MODEL_ORDER = ["program", "subcategory", "activity", "class", "session"]
FIGURE_ORDER = ["created", "updated", "unchanged", "removed", "skipped"]


def _ordered(keys, order):
    return sorted(keys, key=lambda key: (order.index(key) if key in order else 99, key))


def _format_counts(counts):
    """{"session": {"created": 3, "updated": 1}} -> "session: 3 created, 1 updated"."""
    counts = counts or {}
    parts = []
    for model in _ordered(counts, MODEL_ORDER):
        figures = counts[model]
        if isinstance(figures, dict):
            numbers = ", ".join(
                f"{figures[name]} {name}"
                for name in _ordered(figures, FIGURE_ORDER)
                if isinstance(figures[name], int) and figures[name]
            )
            parts.append(f"{model}: {numbers or 'no change'}")
        elif isinstance(figures, int):
            parts.append(f"{figures} {model}")
    return "; ".join(parts)


def _format_duration(duration):
    if duration is None:
        return "-"
    seconds = duration.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s"


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    change_list_template = "traction_rec_import/admin/importrun_change_list.html"
    list_display = [
        "id",
        "kind",
        "status",
        "started_at",
        "duration_display",
        "counts_display",
        "skip_count",
        "error_display",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["task_id", "source_dir", "error_code", "error_message"]
    date_hierarchy = "started_at"
    fields = [
        "kind",
        "status",
        "started_at",
        "finished_at",
        "duration_display",
        "source_dir",
        "options",
        "counts_display",
        "error_code",
        "error_message",
        "hint",
        "host",
        "pid",
        "task_id",
        "skipped_records",
        "manifest_display",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(skip_total=Count("skips"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Runs are a record of what happened; nobody edits them.
        return False

    def has_view_permission(self, request, obj=None):
        # An operator sees the runs the buttons start.
        return super().has_view_permission(request, obj) or request.user.has_perm(
            OPERATE_PERMISSION
        )

    def has_module_permission(self, request):
        return super().has_module_permission(request) or request.user.has_perm(
            OPERATE_PERMISSION
        )

    @admin.display(description="duration")
    def duration_display(self, run):
        return _format_duration(run.duration)

    @admin.display(description="counts")
    def counts_display(self, run):
        return _format_counts(run.counts) or "-"

    @admin.display(description="skipped", ordering="skip_total")
    def skip_count(self, run):
        return getattr(run, "skip_total", None) or run.skips.count()

    @admin.display(description="error")
    def error_display(self, run):
        if not run.error_message:
            return ""
        code = f"{run.error_code}: " if run.error_code else ""
        return f"{code}{run.error_message}"

    @admin.display(description="skipped records")
    def skipped_records(self, run):
        return SkippedRecordInlineList.render(run)

    @admin.display(description="fetch manifest")
    def manifest_display(self, run):
        if not run.manifest:
            return "None."
        text = json.dumps(run.manifest, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    # Operations

    def get_urls(self):
        operate = self.admin_site.admin_view(require_POST(self.operation_view))
        return [
            path(
                "operations/<slug:slug>/",
                operate,
                name="traction_rec_import_importrun_operation",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if request.user.has_perm(OPERATE_PERMISSION):
            extra_context["operations"] = list(OPERATIONS.values())
            extra_context["held_locks"] = list(Lock.objects.order_by("name"))
        return super().changelist_view(request, extra_context)

    def operation_view(self, request, slug):
        operation = OPERATIONS.get(slug)
        if operation is None:
            raise Http404(f"No operation named {slug!r}.")
        if not request.user.has_perm(OPERATE_PERMISSION):
            raise PermissionDenied

        form = None
        if operation.form_class is not None:
            data = request.POST if request.POST.get("confirmed") else None
            form = operation.form_class(data)
        if operation.destructive and not (form is not None and form.is_valid()):
            return self._confirmation(request, operation, form)

        if slug == "test-connection":
            self._test_connection(request)
        elif slug == "reset-lock":
            self._reset_lock(request, form.cleaned_data["lock"])
        else:
            options = dict(form.cleaned_data) if form is not None else {}
            self._queue(request, operation, options)
        return HttpResponseRedirect(
            reverse("admin:traction_rec_import_importrun_changelist")
        )

    def _confirmation(self, request, operation, form):
        context = {
            **self.admin_site.each_context(request),
            "title": f"{operation.label}: are you sure?",
            "operation": operation,
            "form": form,
            "held_locks": list(Lock.objects.order_by("name")),
            "opts": self.model._meta,
            "action_url": reverse(
                "admin:traction_rec_import_importrun_operation", args=[operation.slug]
            ),
            "cancel_url": reverse("admin:traction_rec_import_importrun_changelist"),
        }
        return TemplateResponse(
            request, "traction_rec_import/admin/confirm_operation.html", context
        )

    def _test_connection(self, request):
        from traction_rec import connection_test
        from traction_rec_import import schedules

        waiting = schedules.waiting_names()
        steps = connection_test.run()
        failed = [step for step in steps if not step.ok]
        logger.info(
            "connection_test steps=%d failed=%d user=%s",
            len(steps),
            len(failed),
            request.user.pk,
        )
        if failed:
            for step in failed:
                words = (f"{step.name}:", step.detail, step.hint)
                messages.error(request, " ".join(word for word in words if word))
            return
        messages.success(
            request, f"Connection test passed: all {len(steps)} steps succeeded."
        )
        still_waiting = schedules.waiting_names()
        enabled = [name for name in waiting if name not in still_waiting]
        if enabled:
            messages.info(
                request,
                "The default schedules are enabled: " + "; ".join(enabled) + ".",
            )

    def _reset_lock(self, request, name):
        removed = locks.reset(name)
        if removed is None:
            messages.info(request, f"The {name} lock was not held; nothing to reset.")
            return
        logger.warning("lock=%s reset_by_user=%s", name, request.user.pk)
        messages.warning(
            request,
            f"Reset the {name} lock held by {removed.owner_host}, process "
            f"{removed.owner_pid} since "
            f"{timezone.localtime(removed.acquired_at):%Y-%m-%d %H:%M:%S %Z}.",
        )

    def _queue(self, request, operation, options):
        task_id = str(uuid.uuid4())
        outcome = {}

        def send():
            try:
                sent = operation.task.apply_async(kwargs=options, task_id=task_id)
            except (tasks.RunFailed, tasks.RetryableFailure) as exc:
                # Only without a broker: the task ran here, eagerly, and failed.
                outcome["failed"] = exc
                return
            except Retry as retry:
                # Eagerly a retry cannot wait for its backoff; say so instead.
                outcome["failed"] = retry.exc
                outcome["not_retried"] = True
                return
            except BrokerError as exc:
                outcome["unsent"] = exc
                return
            if sent.ready():
                outcome["result"] = sent.result

        transaction.on_commit(send)
        logger.info(
            "operation=%s task_id=%s user=%s", operation.slug, task_id, request.user.pk
        )
        self._report(request, operation, task_id, outcome)

    def _report(self, request, operation, task_id, outcome):
        label = operation.label
        if "unsent" in outcome:
            messages.error(
                request,
                f"{label} could not be queued: the broker did not answer "
                f"({outcome['unsent']}). Check that Redis and the worker are "
                "running, then try again.",
            )
            return
        if "failed" in outcome:
            exc = outcome["failed"]
            link = _run_link(exc.run_id) if exc.run_id else "the run list"
            later = (
                " Without a broker it is not retried by itself; try again later."
                if outcome.get("not_retried")
                else ""
            )
            messages.error(
                request, format_html("{} failed: {}{} See {}.", label, exc, later, link)
            )
            return
        if "result" in outcome:
            result = outcome["result"]
            links = format_html_join(
                ", ", "{}", ((_run_link(run_id),) for run_id in _run_ids(result))
            )
            if result.get("status") == "skipped":
                messages.warning(
                    request,
                    format_html("{} {} See {}.", label, result["detail"], links),
                )
            else:
                status = result["status"]
                text = format_html("{} finished ({}). See {}.", label, status, links)
                messages.success(request, text)
            return
        url = reverse("admin:traction_rec_import_importrun_changelist")
        messages.success(
            request,
            format_html(
                '{} queued as task {}. <a href="{}?task_id={}">Its runs</a> appear '
                "when the worker picks it up.",
                label,
                task_id,
                url,
                task_id,
            ),
        )


@admin.register(SkippedRecord)
class SkippedRecordAdmin(admin.ModelAdmin):
    list_display = ["run", "model", "sf_id", "reason"]
    list_filter = ["model"]
    search_fields = ["sf_id", "reason"]
    list_select_related = ["run"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
