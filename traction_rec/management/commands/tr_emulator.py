"""Serve a local Traction Rec org on 127.0.0.1 until Ctrl-C or SIGTERM."""

import datetime as dt
import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from traction_rec.emulator.faults import FaultError, parse_fault
from traction_rec.emulator.org import Org, OrgError
from traction_rec.emulator.server import MAX_BATCH, OrgServer


class Command(BaseCommand):
    help = (
        "Serve a local Traction Rec org (token endpoint, SOQL queries, pages) "
        "from a folder of <Object>.json files, on 127.0.0.1."
    )
    # A stand-alone server: it needs neither the database nor the URLconf.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--org", required=True, help="Folder of <Object>.json files."
        )
        parser.add_argument("--port", type=int, default=0, help="Port (0: a free one).")
        parser.add_argument(
            "--cert", required=True, help="PEM X.509 certificate of the connected app."
        )
        parser.add_argument("--consumer-key", default="demo-consumer-key")
        parser.add_argument("--username", default="integration@ymca.example")
        parser.add_argument("--audience", default="https://login.salesforce.com")
        parser.add_argument(
            "--today",
            help="Fixed today, YYYY-MM-DD (default: the date when it starts; a "
            "long-running org keeps that day).",
        )
        parser.add_argument(
            "--page-size", type=int, default=MAX_BATCH, help="Records a page (1-2000)."
        )
        parser.add_argument("--api-limit", type=int, default=15000)
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="KIND[:key=value,...]",
            help="A fault, e.g. status:code=503,page=2,times=2 (repeatable; see "
            "traction_rec/emulator/faults.py).",
        )

    def handle(self, *args, **options):
        today = self._today(options["today"])
        certificate = self._certificate(options["cert"])
        try:
            org = Org.load(options["org"], today=today)
        except OrgError as exc:
            raise CommandError(
                f"{exc} Point --org at a folder like ../shared/sample-org."
            ) from None

        try:
            server = OrgServer(
                org,
                certificate_pem=certificate,
                consumer_key=options["consumer_key"],
                username=options["username"],
                audience=options["audience"],
                port=options["port"],
                page_size=options["page_size"],
                api_limit=options["api_limit"],
            )
        except ValueError as exc:
            raise CommandError(str(exc))
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on 127.0.0.1:{options['port']} ({exc.strerror}). "
                "Choose another --port, or 0 for a free one."
            )
        for text in options["fault"]:
            try:
                kind, arguments = parse_fault(text)
                server.faults.add(kind, **arguments)
            except (FaultError, TypeError) as exc:
                server.server_close()
                raise CommandError(f"--fault {text}: {exc}")

        signal.signal(signal.SIGTERM, _interrupt)
        self.stdout.write(
            f"Local Traction Rec org: {len(org.object_names)} objects, dates moved "
            f"{org.shift_days // 7} weeks, serving on {server.url} "
            f"({len(options['fault'])} faults). Ctrl-C stops it."
        )
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.stopping.set()
            server.server_close()
        self.stdout.write(f"Local org stopped after {len(server.requests)} requests.")

    def _today(self, text):
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--today must be a date like 2026-12-04, not {text!r}.")

    def _certificate(self, path):
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise CommandError(
                f"Cannot read the certificate {path} ({exc.strerror}). Give --cert "
                "the PEM certificate uploaded to the connected app."
            )


def _interrupt(signum, frame):
    raise KeyboardInterrupt
