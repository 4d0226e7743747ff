"""The child side of a measurement: `python -m bench.worker TASK JSON`.

Each task does one piece of work, times only that work with a monotonic
clock, and prints one `BENCH-RESULT {json}` line. Peak memory is read by the
parent from the child's own resource usage (see bench.process). Secrets come
from files named in the arguments, never from the command line.
"""

import json
import logging
import sys
import time
from pathlib import Path

RESULT_MARK = "BENCH-RESULT "


def _django():
    import django

    django.setup()


def _peak_rss():
    """This process's RSS high-water mark in bytes. VmHWM belongs to the
    address space made at exec, so unlike ru_maxrss it does not include the
    parent's memory inherited through fork."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


class _Timer:
    """Wall and CPU time of the work alone (not the interpreter's start-up).
    CPU time matters on a shared machine: wall time there includes waiting for
    a core."""

    def __init__(self):
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def figures(self):
        return {
            "seconds": time.perf_counter() - self.wall,
            "cpu_seconds": time.process_time() - self.cpu,
        }


def _report(result):
    result["peak_rss_bytes"] = _peak_rss()
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()


def setup(args):
    """Migrate a fresh database (unless it is a copy of a migrated one),
    create our locations titled as the org's, and save the connection to the
    local org through the admin's form."""
    _django()
    from django.core.management import call_command

    from activity_finder.models import Location

    timer = _Timer()
    if args.get("migrate", True):
        call_command("migrate", interactive=False, verbosity=0)
    if not args.get("org_dir"):
        _report({**timer.figures(), "locations": 0})
        return
    records = json.loads(
        (Path(args["org_dir"]) / "TREX1__Location__c.json").read_text()
    )["records"]
    for record in records:
        kind = Location.Kind.CAMP if record["Name"].startswith("Camp ") else Location.Kind.BRANCH
        Location.objects.get_or_create(title=record["Name"], kind=kind)
    if args.get("org_url"):
        _save_connection(args)
    _report({**timer.figures(), "locations": len(records)})


def _save_connection(args):
    from traction_rec.forms import ConnectionSettingsForm
    from traction_rec.models import ConnectionSettings

    url = args["org_url"]
    form = ConnectionSettingsForm(
        data={
            "consumer_key": args["consumer_key"],
            "consumer_secret": "bench-consumer-secret",
            "login_user": args["username"],
            "login_url": url,
            "services_base_url": f"{url}/services",
            "api_base_url": f"{url}/services/data/v62.0",
            "community_url": "https://ymca-bench.my.site.com",
            "audience": "",
            "timeout": 60,
            "api_version": "v62.0",
            "private_key_source": "database",
            "private_key": Path(args["key_path"]).read_text(),
            "private_key_path": "",
            "private_key_passphrase": "",
            "certificate": Path(args["cert_path"]).read_text(),
        },
        instance=ConnectionSettings.load(),
    )
    if not form.is_valid():
        raise SystemExit(f"The bench connection was refused: {sorted(form.errors)}")
    form.save()


def soql(args):
    _django()
    from traction_rec_import.fetch import build_soql

    _report({"soql": [text for _, text in build_soql()]})


def fetch_ours(args):
    _django()
    from traction_rec_import.fetch import run_fetch

    timer = _Timer()
    fetched = run_fetch()
    timed = timer.figures()
    manifest_path = Path(fetched.folder) / "manifest.json"
    files = {}
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        files = {
            name: {"records": entry.get("records"), "pages": entry.get("pages")}
            for name, entry in manifest.get("files", {}).items()
        }
    _report({
        **timed,
        "complete": bool(fetched.complete),
        "folder": str(fetched.folder),
        "files": files,
    })


def _follow(session, base, soql, on_page):
    """Page through one query with plain requests; return (records, pages)."""
    response = session.get(f"{base}/services/data/v62.0/query", params={"q": soql}, timeout=60)
    records = pages = 0
    while True:
        response.raise_for_status()
        body = response.json()
        pages += 1
        records += len(body["records"])
        on_page(body)
        if body.get("done", True) or not body.get("nextRecordsUrl"):
            return records, pages
        response = session.get(base + body["nextRecordsUrl"], timeout=60)


def fetch_floor(args):
    """The floor: download every page of the same queries, keep nothing."""
    import requests

    token = Path(args["token_path"]).read_text().strip()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    timer = _Timer()
    records = pages = 0
    for soql in args["soql"]:
        got, paged = _follow(session, args["url"], soql, lambda body: None)
        records += got
        pages += paged
    _report({**timer.figures(), "records": records, "pages": pages})


def fetch_peer(args):
    """What a Python team would write: simple-salesforce's query_all for each
    query, each result dumped to a JSON file."""
    import requests
    from requests.adapters import HTTPAdapter
    from simple_salesforce import Salesforce

    class LoopbackPlainHttp(HTTPAdapter):
        # simple-salesforce builds https:// URLs from instance_url; the local
        # org speaks plain HTTP on 127.0.0.1, so send its requests as http.
        def send(self, request, **kwargs):
            request.url = "http://" + request.url[len("https://"):]
            return super().send(request, **kwargs)

    url = args["url"]
    host = url[len("http://"):]
    token = Path(args["token_path"]).read_text().strip()
    session = requests.Session()
    session.mount(f"https://{host}", LoopbackPlainHttp())
    timer = _Timer()
    sf = Salesforce(
        instance_url=f"https://{host}", session_id=token, version="62.0", session=session
    )
    out_dir = Path(args["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    records = 0
    for number, soql in enumerate(args["soql"]):
        result = sf.query_all(soql)
        records += len(result["records"])
        with open(out_dir / f"query-{number}.json", "w") as out:
            json.dump(result["records"], out)
    _report({**timer.figures(), "records": records})


def import_ours(args):
    _django()
    from traction_rec_import.importer import run_import

    timer = _Timer()
    imported = run_import(directory=Path(args["directory"]), sync=args.get("sync", False))
    _report({
        **timer.figures(),
        "complete": bool(imported.complete),
        "counts": imported.counts,
    })


def import_naive(args):
    _django()
    from traction_rec_import import naive

    timer = _Timer()
    result = naive.run_naive_import(Path(args["directory"]), time_limit=args.get("time_limit"))
    _report({
        **timer.figures(),
        "sessions_total": result.pop("sessions_total"),
        "sessions_done": result.pop("sessions_done"),
        "counts": {name: value for name, value in result.items() if isinstance(value, dict)},
    })


def finder_params(args):
    """Ids for the search mix: the location with the most sessions and, at
    it, the subcategory with the most sessions; an age point that matches."""
    _django()
    from django.db.models import Count

    from activity_finder.age_points import AgePoint
    from activity_finder.models import Session

    visible = Session.objects.filter(published=True)
    location = (
        visible.values("location_id").annotate(n=Count("id")).order_by("-n", "location_id")
    ).first()
    category = (
        visible.filter(location_id=location["location_id"])
        .values("session_class__activity__subcategory_id")
        .annotate(n=Count("id"))
        .order_by("-n", "session_class__activity__subcategory_id")
    ).first()
    points = list(AgePoint.objects.values_list("months", flat=True))
    age = 72 if 72 in points else points[len(points) // 2]
    _report({
        "sessions": visible.count(),
        "location": location["location_id"],
        "category": category["session_class__activity__subcategory_id"],
        "age": age,
        "keywords": "swim",
    })


def profile(args):
    """Run another task under pyinstrument and write its text report."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        TASKS[args["task"]](args["arguments"])
    finally:
        profiler.stop()
        Path(args["out"]).write_text(profiler.output_text(unicode=False, color=False))


TASKS = {
    "setup": setup,
    "soql": soql,
    "fetch_ours": fetch_ours,
    "fetch_floor": fetch_floor,
    "fetch_peer": fetch_peer,
    "import_ours": import_ours,
    "import_naive": import_naive,
    "finder_params": finder_params,
    "profile": profile,
}


def main(argv):
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    task, arguments = argv[1], json.loads(argv[2])
    TASKS[task](arguments)


if __name__ == "__main__":
    main(sys.argv)
