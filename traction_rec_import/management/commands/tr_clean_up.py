"""`manage.py tr_clean_up`: prune old backups and abandoned fetch folders."""

from django.core.management.base import BaseCommand, CommandError

from traction_rec_import import backups
from traction_rec_import.models import ImportSettings


class Command(BaseCommand):
    help = (
        "Keep the newest backups (the number set in the import settings) and "
        "remove temporary folders left by fetches that stopped. Removes only "
        "folders this project named, inside its data folder."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be removed, and remove nothing.",
        )

    def handle(self, *args, dry_run, **options):
        keep = ImportSettings.load().backups_to_keep
        plan = backups.plan_clean_up()

        if dry_run:
            for folder, _root, reason in plan:
                self.stdout.write(f"Would remove {folder} ({reason}).")
            self.stdout.write(
                f"Would remove {len(plan)} folders; the newest {keep} backups stay."
            )
            return

        try:
            removed = backups.clean_up()
        except backups.CleanUpError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Removed {removed} folders; the newest {keep} backups stay.")
