"""`manage.py tr_check`: the connection test, for people and for monitoring.

Prints each step; exits non-zero when any step fails (an expired certificate
is a failed step), so a monitoring job can alert on the exit status.
"""

from django.core.management.base import BaseCommand, CommandError

from traction_rec import connection_test


class Command(BaseCommand):
    help = (
        "Test the Traction Rec connection: settings and key, certificate, token, "
        "API versions, a one-row query per object, base URLs."
    )

    def handle(self, *args, **options):
        steps = connection_test.run()

        for step in steps:
            mark = "ok" if step.ok else "FAILED"
            style = self.style.SUCCESS if step.ok else self.style.ERROR
            self.stdout.write(style(f"[{mark}] {step.name}: {step.detail}"))
            if step.hint:
                self.stdout.write(f"       {step.hint}")

        failed = [step.name for step in steps if not step.ok]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(steps)} steps failed: {', '.join(failed)}. "
                "Fix them in the Traction Rec connection settings (admin)."
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(steps)} steps passed."))
