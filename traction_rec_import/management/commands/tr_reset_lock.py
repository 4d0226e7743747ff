"""manage.py tr_reset_lock: clear a lock whose run is known to be dead."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from traction_rec_import import locks

NAMES = (locks.FETCH, locks.IMPORT)


class Command(BaseCommand):
    help = "Clear the fetch or import lock, whoever holds it."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=NAMES, help="The lock to clear.")

    def handle(self, *args, **options):
        name = options["name"]
        removed = locks.reset(name)
        if removed is None:
            self.stdout.write(f"The {name} lock is not held; nothing to clear.")
            return

        since = timezone.localtime(removed.acquired_at)
        owner = f"{removed.owner_host}, process {removed.owner_pid}"
        if removed.owner_task:
            owner += f", task {removed.owner_task}"
        self.stdout.write(
            f"Cleared the {name} lock held since {since:%Y-%m-%d %H:%M:%S %Z} "
            f"({owner})."
        )
