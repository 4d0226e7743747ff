"""manage.py tr_import: turn a fetch folder into the PEF catalogue."""

from django.core.management.base import BaseCommand, CommandError

from traction_rec_import import importer, locks


class Progress:
    """A tqdm bar per stage on a terminal, a plain line per batch otherwise."""

    def __init__(self, command, tty):
        self.command = command
        self.tty = tty
        self.bars = {}
        self.last = {}

    def __call__(self, stage, done, total):
        if self.tty:
            from tqdm import tqdm

            bar = self.bars.get(stage)
            if bar is None:
                for other in self.bars.values():
                    other.close()
                bar = self.bars[stage] = tqdm(
                    total=total, desc=stage, unit=" records", file=self.command.stderr
                )
            bar.update(done - self.last.get(stage, 0))
        else:
            total_text = f" of {total}" if total is not None else ""
            self.command.stdout.write(f"{stage}: {done}{total_text} records read")
        self.last[stage] = done

    def close(self):
        for bar in self.bars.values():
            bar.close()


class Command(BaseCommand):
    help = (
        "Import the newest published fetch folder (or --dir) into programs, "
        "subcategories, activities, classes and sessions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="The fetch folder to import.")
        parser.add_argument(
            "--sync",
            action="store_true",
            help="Remove (or unpublish) rows whose source is gone.",
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="Rewrite rows whose source did not change (local edits are lost).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Let --sync remove more than the safety share.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would change and change nothing.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Print no progress."
        )

    def handle(self, *args, **options):
        progress = None
        if not options["no_progress"] and options["verbosity"] > 0:
            progress = Progress(self, self.stdout.isatty())

        try:
            result = importer.run_import(
                directory=options["dir"],
                sync=options["sync"],
                update=options["update"],
                force=options["force"],
                dry_run=options["dry_run"],
                progress=progress,
            )
        except (
            locks.LockHeld,
            importer.ImportDisabled,
            importer.ImportRefused,
            importer.SourceError,
        ) as exc:
            raise CommandError(str(exc)) from None
        finally:
            if progress is not None:
                progress.close()

        for note in result.notes:
            self.stdout.write(note)
        self.stdout.write(result.summary())
