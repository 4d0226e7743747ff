"""`manage.py tr_fetch`: fetch Traction Rec into a new published folder."""

import argparse

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from traction_rec_import import storage
from traction_rec_import.fetch import OBJECTS, FetchDisabled, run_fetch
from traction_rec_import.locks import LockHeld


def _batch_size(text):
    # Salesforce accepts batchSize from 200 to 2000 and quietly changes
    # anything else; refuse it here so the operator knows.
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 200 <= value <= 2000:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a batch size; give a whole number from 200 to 2000."
        )
    return value


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class Command(BaseCommand):
    help = (
        "Fetch programs, courses, course options and locations from Traction "
        "Rec into a new folder of JSON files. Exits non-zero when any object "
        "failed; the run is then kept, marked failed, for inspection."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the SOQL the fetch would send, and send nothing.",
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            metavar="200..2000",
            help="Records per page to ask Salesforce for (its default is 2000).",
        )

    def handle(self, *args, dry_run, batch_size, **options):
        try:
            result = run_fetch(dry_run=dry_run, batch_size=batch_size)
        except (FetchDisabled, LockHeld, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from None

        if dry_run:
            # The label line names the files; the SOQL lines can be pasted
            # as they are into the Developer Console or Workbench.
            for item, text in zip(OBJECTS, result.soql):
                self.stdout.write(f"{item.query} ({', '.join(item.files)}):")
                self.stdout.write(text)
                self.stdout.write("")
            return

        if result.folder is None:
            raise CommandError(self._failure_without_folder(result.run_id))

        files = result.manifest["files"]
        for name, entry in files.items():
            self.stdout.write(self._file_line(name, entry))

        if not result.complete:
            raise CommandError(self._failure(result, files))
        self.stdout.write(
            self.style.SUCCESS(f"Fetch run #{result.run_id} complete: {result.folder}")
        )

    def _file_line(self, name, entry):
        counts = (
            f"{_plural(entry['records'], 'record')}, "
            f"{_plural(entry['pages'], 'page')}"
        )
        if entry["error"] is None:
            return f"{name}: complete, {counts}"
        error = entry["error"]
        status = f", HTTP {error['status']}" if error["status"] else ""
        return (
            f"{name}: FAILED after {counts} ({error['code']}{status}): "
            f"{error['message']}"
        )

    def _failure(self, result, files):
        failed = [name for name, entry in files.items() if entry["error"]]
        first = files[failed[0]]["error"]
        parts = [f"Fetch run #{result.run_id} failed: {', '.join(failed)}."]
        if first["hint"]:
            parts.append(first["hint"])
        parts.append(
            f"The folder {result.folder} is kept for inspection and marked "
            "failed, so no import deletes anything on the strength of it."
        )
        previous = storage.latest_published(complete_only=True)
        if previous is not None:
            parts.append(f"The last complete fetch, {previous}, is still there.")
        parts.append("Fix the cause and run `manage.py tr_fetch` again.")
        return " ".join(parts)

    def _failure_without_folder(self, run_id):
        from traction_rec_import.models import ImportRun

        run = ImportRun.objects.get(pk=run_id)
        parts = [f"Fetch run #{run_id} failed before any query: {run.error_message}"]
        if run.hint:
            parts.append(run.hint)
        return " ".join(parts)
