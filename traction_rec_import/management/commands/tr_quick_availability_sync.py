"""manage.py tr_quick_availability_sync: refresh spots and wait lists only."""

from django.core.management.base import BaseCommand, CommandError

from traction_rec_import import availability, locks


class Command(BaseCommand):
    help = (
        "Query Traction Rec for the availability and wait lists of the options "
        "and update the sessions already imported."
    )

    def handle(self, *args, **options):
        from traction_rec.errors import TractionRecError

        try:
            result = availability.run_quick_sync()
        except locks.LockHeld as exc:
            raise CommandError(str(exc)) from None
        except TractionRecError as exc:
            message = exc.message
            if exc.hint:
                message += " " + exc.hint
            raise CommandError(message) from None

        for note in result.notes:
            self.stdout.write(note)
        self.stdout.write(availability.summary(result))
