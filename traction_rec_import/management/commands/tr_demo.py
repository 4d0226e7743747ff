"""`make demo`: the main job end to end on this machine, with no Salesforce account.

It makes a throw-away key and certificate, writes a generated org, serves it
on 127.0.0.1 as the local Traction Rec org, saves the connection through the
admin's own form, fetches over HTTP, imports, creates a demo-only admin and
serves the site. Ctrl-C stops the site and the local org.
"""

import logging
import secrets
import signal
import socket
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

DEMO_CONSUMER_KEY = "demo-consumer-key"
DEMO_USERNAME = "integration@ymca-demo.example"
DEMO_ADMIN = "demo-admin"
# The local org's port, when free: the community URL (and so every Register
# link) contains it, so a stable port makes a second demo run "unchanged".
ORG_PORT = 8001


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = "Run the demo: local org, fetch and import over HTTP, and the site."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Site port.")
        parser.add_argument(
            "--options", type=int, default=400, help="Course options to generate."
        )
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Stop after the import instead of serving the site.",
        )

    def handle(self, *args, port, options, no_serve, verbosity, **kwargs):
        if verbosity < 2:
            # Keep the demo's terminal to its own lines; -v 2 shows the
            # per-page log lines an operator would see.
            for name in ("traction_rec", "traction_rec_import", "activity_finder"):
                logging.getLogger(name).setLevel(logging.WARNING)
        if not no_serve and not _port_is_free(port):
            raise CommandError(
                f"Port {port} on 127.0.0.1 is in use. Stop what runs there or "
                f"choose another: `.venv/bin/python manage.py tr_demo --port 8080`."
            )

        from traction_rec.emulator.generator import write_org
        from traction_rec.emulator.testing import running_org

        demo_dir = Path(settings.VAR_DIR) / "demo"
        demo_dir.mkdir(parents=True, exist_ok=True)

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")

        key_pem, cert_pem = self._write_key_pair(demo_dir)
        counts = write_org(demo_dir / "org", options=options, seed=1)
        self.stdout.write(
            f"Demo org written: {counts.get('TREX1__Course_Option__c', 0)} course "
            f"options in {demo_dir / 'org'}."
        )

        with running_org(
            demo_dir / "org",
            certificate_pem=cert_pem,
            consumer_key=DEMO_CONSUMER_KEY,
            username=DEMO_USERNAME,
            port=ORG_PORT if _port_is_free(ORG_PORT) else 0,
        ) as org:
            self.stdout.write(f"Local Traction Rec org serving on {org.url}")
            self._save_connection(org.url, key_pem, cert_pem)
            self._fetch_and_import()
            password = self._demo_admin()

            if no_serve:
                return

            self.stdout.write("")
            self.stdout.write(self.style.WARNING("DEMO ONLY, never use on a real site:"))
            self.stdout.write(f"  admin login {DEMO_ADMIN} / {password}")
            self.stdout.write(f"  site   http://127.0.0.1:{port}/activities/")
            self.stdout.write(f"  admin  http://127.0.0.1:{port}/admin/")
            self.stdout.write(
                "The demo runs no Celery worker or beat: scheduled syncs do not "
                "run here, and the admin's buttons run their task in this process."
            )
            self.stdout.write("Ctrl-C stops the site and the local org.")
            # Stop on Ctrl-C and on SIGTERM alike, even where the shell started
            # us with SIGINT ignored (a background job).
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, _interrupt)
            try:
                call_command(
                    "runserver",
                    f"127.0.0.1:{port}",
                    use_reloader=False,
                    skip_checks=True,
                )
            except (KeyboardInterrupt, SystemExit):
                # runserver turns Ctrl-C into sys.exit(0).
                pass
        self.stdout.write("Demo stopped.")

    def _write_key_pair(self, demo_dir):
        from traction_rec.emulator.selfsigned import make_key_pair

        key_path, cert_path = demo_dir / "demo-key.pem", demo_dir / "demo-cert.pem"
        key_pem, cert_pem = make_key_pair(common_name="ymca-demo")
        key_path.write_text(key_pem)
        key_path.chmod(0o600)
        cert_path.write_text(cert_pem)
        self.stdout.write(f"Throw-away key and certificate written to {demo_dir}.")
        return key_pem, cert_pem

    def _save_connection(self, org_url, key_pem, cert_pem):
        """Save the connection through the admin's form, as an admin would."""
        from traction_rec.forms import ConnectionSettingsForm
        from traction_rec.models import ConnectionSettings

        instance = ConnectionSettings.load()
        data = {
            "consumer_key": DEMO_CONSUMER_KEY,
            "consumer_secret": "demo-consumer-secret",
            "login_user": DEMO_USERNAME,
            "login_url": org_url,
            "services_base_url": f"{org_url}/services",
            "api_base_url": f"{org_url}/services/data/v62.0",
            "community_url": org_url,
            "audience": "",
            "timeout": 30,
            "api_version": "v62.0",
            "private_key_source": "database",
            "private_key": key_pem,
            "private_key_path": "",
            "private_key_passphrase": "",
            "certificate": cert_pem,
        }
        form = ConnectionSettingsForm(data=data, instance=instance)
        if not form.is_valid():
            problems = "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()
            )
            raise CommandError(f"The demo connection was refused: {problems}")
        form.save()
        self.stdout.write("Connection saved through the admin form.")

    def _fetch_and_import(self):
        from traction_rec_import.fetch import run_fetch
        from traction_rec_import.importer import run_import

        fetched = run_fetch()
        if not fetched.complete:
            raise CommandError(
                f"The demo fetch failed; see import run #{fetched.run_id} in admin."
            )
        self.stdout.write(f"Fetched over HTTP into {fetched.folder}.")
        self._create_branches(fetched.folder)

        imported = run_import(directory=fetched.folder, sync=True)
        sessions = imported.counts.get("session", {})
        self.stdout.write(
            f"Imported: {sessions.get('created', 0)} sessions created, "
            f"{sessions.get('updated', 0)} updated, "
            f"{sessions.get('unchanged', 0)} unchanged, "
            f"{sessions.get('skipped', 0)} skipped (import run #{imported.run_id})."
        )

    def _create_branches(self, folder):
        """Map each fetched location with an address through the mapping
        screen's own code: a camp for the camp, "create a branch from it" for
        the rest. Locations mapped by an earlier run stay as they are."""
        from activity_finder.models import Location
        from traction_rec_import.location_admin import apply_rows, read_last_fetch
        from traction_rec_import.models import FetchedLocation, LocationMapping

        read_last_fetch()
        mapped = set(LocationMapping.objects.values_list("sf_location_id", flat=True))
        rows = []
        for fetched in FetchedLocation.objects.exclude(sf_id__in=mapped):
            if not fetched.address:
                continue
            if "Camp" in fetched.name:
                camp, _ = Location.objects.get_or_create(
                    title=fetched.name, defaults={"kind": Location.Kind.CAMP}
                )
                rows.append(
                    {"sf_id": fetched.sf_id, "location": camp.pk, "create_branch": False}
                )
            else:
                rows.append(
                    {"sf_id": fetched.sf_id, "location": None, "create_branch": True}
                )
        mapped_now, created, _ = apply_rows(rows)
        if mapped_now:
            self.stdout.write(
                f"Mapped {mapped_now} Traction Rec locations ({created} branches created)."
            )

    def _demo_admin(self):
        password = secrets.token_urlsafe(12)
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=DEMO_ADMIN)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return password
