"""manifest.json: what a fetch folder holds and whether each file is whole.

The import trusts a file for deletions only when the manifest calls it
complete; a file whose query failed on any page is marked failed with the
Salesforce error, so a cut-off list can never pass for the end of the data.
"""

import json

from traction_rec_import.storage import MANIFEST, ManifestError, write_json

FORMAT = 1
COMPLETE = "complete"
FAILED = "failed"

# Every file a complete fetch writes, in the order they are fetched.
FILES = (
    "programs.json",
    "program_categories.json",
    "classes.json",
    "sessions.json",
    "locations.json",
)


def file_entry(*, records, pages, sha256, error=None):
    """One file's line in the manifest; error is the TractionRecError's
    as_dict() shape ({"code", "message", "status", "hint"}) or None."""
    return {
        "status": FAILED if error else COMPLETE,
        "records": records,
        "pages": pages,
        "sha256": sha256,
        "error": error,
    }


def build(*, run_id, started_at, finished_at, api_usage, files):
    """The manifest document; complete only when every expected file is."""
    complete = all(
        name in files and files[name]["status"] == COMPLETE for name in FILES
    )
    return {
        "format": FORMAT,
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "status": COMPLETE if complete else FAILED,
        "api_usage": api_usage,
        "files": files,
    }


def write(folder, manifest):
    write_json(folder / MANIFEST, manifest)


def _missing(name):
    return {
        "code": "MISSING_FILE",
        "message": f"{name} is not in this folder.",
        "status": None,
        "hint": "",
    }


def _without_manifest(folder):
    """A Drupal module backup has no manifest: trust what is there (never for
    deletions of what is absent) and call every absent file failed."""
    files = {}
    for name in FILES:
        present = (folder / name).is_file()
        files[name] = {
            "status": COMPLETE if present else FAILED,
            "records": None,
            "pages": None,
            "sha256": None,
            "error": None if present else _missing(name),
        }
    complete = all(entry["status"] == COMPLETE for entry in files.values())
    return {
        "format": FORMAT,
        "run_id": None,
        "started_at": None,
        "finished_at": None,
        "status": COMPLETE if complete else FAILED,
        "api_usage": None,
        "files": files,
        "legacy": True,
    }


def read(folder):
    """The manifest of a fetch folder as a dict (see COMMON.md "Fetch output").

    Raises ManifestError for a manifest this version cannot read."""
    path = folder / MANIFEST
    if not path.exists():
        return _without_manifest(folder)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(
            f"{path} cannot be read ({exc}). Fetch again with `manage.py tr_fetch`."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ManifestError(
            f"{path} has format {found!r}; this version reads format {FORMAT}. "
            f"Fetch again with `manage.py tr_fetch`."
        )
    files = manifest.get("files")
    status = manifest.get("status")
    if not isinstance(files, dict) or status not in (COMPLETE, FAILED):
        raise ManifestError(
            f"{path} lacks its status or file list. Fetch again with "
            f"`manage.py tr_fetch`."
        )
    for name in FILES:
        if name not in files:
            # A file the manifest does not list was not fetched by this run.
            files[name] = {
                "status": FAILED,
                "records": None,
                "pages": None,
                "sha256": None,
                "error": _missing(name),
            }
            manifest["status"] = FAILED
    return manifest


def failed_files(manifest):
    files = manifest["files"]
    return [name for name, entry in files.items() if entry["status"] != COMPLETE]


def is_complete(manifest, name):
    """Whether the import may trust this file to be the whole of its object."""
    entry = manifest["files"].get(name)
    return entry is not None and entry["status"] == COMPLETE
