"""manage.py tr_rollback: remove everything the import created."""

from django.core.management.base import BaseCommand, CommandError

from traction_rec_import import locks, rollback

ORDER = ("program", "subcategory", "activity", "class", "session")


class Command(BaseCommand):
    help = (
        "Remove every program, subcategory, activity, class and session the "
        "import created; rows made by hand stay."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be removed and remove nothing.",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        if not dry_run and not options["yes"]:
            if not options.get("interactive", True) or not self.stdin_isatty():
                raise CommandError(
                    "tr_rollback removes everything the import created; run it "
                    "with --dry-run to see what, then with --yes to do it."
                )
            answer = input("Remove everything the import created? Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Rollback cancelled; nothing was removed.")

        try:
            result = rollback.run_rollback(dry_run=dry_run)
        except locks.LockHeld as exc:
            raise CommandError(str(exc)) from None

        removed = ", ".join(f"{result['removed'][name]} {name}" for name in ORDER)
        kept = sum(result["kept"].values())
        verb = "Would remove" if dry_run else "Removed"
        line = f"{verb} {removed} (rollback #{result['run_id']})"
        if kept:
            line += (
                f"; kept {kept} imported rows that rows made by hand hang under"
            )
        self.stdout.write(line + ".")

    @staticmethod
    def stdin_isatty():
        import sys

        return sys.stdin.isatty()
