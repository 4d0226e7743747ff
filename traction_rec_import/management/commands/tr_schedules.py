"""`manage.py tr_schedules`: create the missing default schedules and list them.

`--enable` and `--disable` switch every default schedule at once, for an
operator without the admin (a maintenance window, a site going live). Each
schedule stays editable one by one in admin under Periodic tasks.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from traction_rec_import import schedules


class Command(BaseCommand):
    help = "Create the missing default sync schedules and show them."

    def add_arguments(self, parser):
        switch = parser.add_mutually_exclusive_group()
        switch.add_argument(
            "--enable", action="store_true", help="Enable every default schedule."
        )
        switch.add_argument(
            "--disable", action="store_true", help="Disable every default schedule."
        )

    def handle(self, *args, enable, disable, **options):
        created = schedules.ensure_defaults()
        names = [default.name for default in schedules.DEFAULTS]
        if enable or disable:
            # The operator decided: the connection test no longer switches them.
            note = schedules.SWITCHED.format(
                state="enabled" if enable else "disabled", at=timezone.localtime()
            )
            for task in PeriodicTask.objects.filter(name__in=names):
                task.enabled = enable
                task.description = note
                # save(), not update(): a running beat learns of the change.
                task.save()

        for name in created:
            self.stdout.write(f"Created (disabled): {name}")
        tasks = PeriodicTask.objects.filter(name__in=names).select_related("crontab")
        for task in sorted(tasks, key=lambda task: names.index(task.name)):
            state = "enabled" if task.enabled else "disabled"
            self.stdout.write(f"{state:<8}  {task.crontab}  {task.name}")
        missing = len(names) - len(tasks)
        if missing:
            # A default renamed in admin is no longer recognised as one.
            self.stdout.write(
                f"{missing} default schedule(s) renamed or deleted in admin."
            )
