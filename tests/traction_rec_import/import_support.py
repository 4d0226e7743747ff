"""Fetch folders in our layout for the import tests, made without the fetch.

sample_org_folder() joins the shared sample org's per-object files the way
the standard queries do (Course Session Option with its option, session,
course, location and product) and writes the simplified lists the importer
reads. write_folder() writes any hand-made records.
"""

import hashlib
import json
from pathlib import Path

from activity_finder.models import Location

PREFIX = "TREX1__"


def _load(org_dir, name):
    return json.loads((Path(org_dir) / f"{PREFIX}{name}__c.json").read_text())["records"]


def _by_id(records):
    return {record["Id"]: record for record in records}


def _field(record, name):
    return record.get(f"{PREFIX}{name}__c")


def write_folder(folder, files, *, manifest=True, failed=()):
    """Write {file name: records} and, unless told not to, a manifest that
    marks every written file complete (or failed, for names in failed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, records in files.items():
        path = folder / name
        path.write_text(json.dumps(records, indent=1))
        entries[name] = {
            "status": "failed" if name in failed else "complete",
            "records": len(records),
            "pages": 1,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "error": (
                {"code": "QUERY_TIMEOUT", "message": "Your query request was "
                 "running for too long.", "status": 400, "hint": ""}
                if name in failed else None
            ),
        }
    if manifest:
        status = "failed" if failed else "complete"
        (folder / "manifest.json").write_text(
            json.dumps(
                {
                    "format": 1,
                    "run_id": 1,
                    "started_at": "2026-12-04T01:00:00+00:00",
                    "finished_at": "2026-12-04T01:01:00+00:00",
                    "status": status,
                    "api_usage": None,
                    "files": entries,
                }
            )
        )
    return folder


def sample_org_records(org_dir):
    """The five files' records for the sample org, in our layout."""
    categories = _by_id(_load(org_dir, "Program_Category"))
    programs = _by_id(_load(org_dir, "Program"))
    courses = _load(org_dir, "Course")
    course_sessions = _by_id(_load(org_dir, "Course_Session"))
    options = _by_id(_load(org_dir, "Course_Option"))
    locations = _by_id(_load(org_dir, "Location"))
    products = _by_id(_load(org_dir, "Product"))
    courses_by_id = _by_id(courses)

    category_rows, program_rows = {}, []
    for tag in _load(org_dir, "Program_Category_Tag"):
        category = categories[_field(tag, "Program_Category")]
        program = programs[_field(tag, "Program")]
        if not (_field(category, "Available_Online") and _field(program, "Available_Online")):
            continue
        category_rows[category["Id"]] = {
            "Id": category["Id"],
            "Name": category["Name"],
            "Available": _field(category, "Available"),
        }
        program_rows.append(
            {
                "Id": program["Id"],
                "Name": program["Name"],
                "Available": _field(program, "Available"),
                "Program": category_rows[category["Id"]],
            }
        )

    class_rows = []
    for course in courses:
        if not _field(course, "Available_Online"):
            continue
        program = programs[_field(course, "Program")]
        class_rows.append(
            {
                "Id": course["Id"],
                "Name": course["Name"],
                "Description": _field(course, "Description"),
                "Rich_Description": _field(course, "Rich_Description"),
                "Available": _field(course, "Available"),
                "Program": {"Id": program["Id"], "Name": program["Name"]},
            }
        )

    option_fields = (
        "Available", "Available_Online", "Capacity", "Start_Date", "Start_Time",
        "End_Date", "End_Time", "Day_of_Week", "Instructor", "Age_Min", "Age_Max",
        "Register_Online_From_Date", "Register_Online_From_Time",
        "Register_Online_To_Date", "Register_Online_To_Time", "Registration_Total",
        "Total_Capacity_Available", "Type", "Unlimited_Capacity",
        "Unlimited_Waitlist_Capacity", "Waitlist_Total", "Waitlist_Capacity",
    )  # fmt: skip
    session_rows = []
    for link in _load(org_dir, "Course_Session_Option"):
        option = options[_field(link, "Course_Option")]
        course_session = course_sessions[_field(link, "Course_Session")]
        course = courses_by_id[_field(course_session, "Course")]
        if not (
            _field(option, "Available_Online")
            and _field(option, "Day_of_Week")
            and _field(option, "Start_Date")
            and _field(course_session, "Available_Online")
            and (_field(course_session, "Num_Option_Entitlements") or 0) <= 1
        ):
            continue
        location = locations.get(_field(option, "Location"))
        product = products.get(_field(option, "Product"))
        session_rows.append(
            {
                "Id": link["Id"],
                "Course_Option": {
                    "Id": option["Id"],
                    "Name": option["Name"],
                    **{name: _field(option, name) for name in option_fields},
                    "Location_Id": location and location["Id"],
                    "Location": location and {"Id": location["Id"], "Name": location["Name"]},
                    "Product_Id": product and product["Id"],
                    "Product": product and {
                        "Id": product["Id"],
                        "Name": product["Name"],
                        "Price_Description": _field(product, "Price_Description"),
                    },
                },
                "Course_Session": {
                    "Id": course_session["Id"],
                    "Name": course_session["Name"],
                    "Description": _field(course_session, "Description"),
                    "Rich_Description": _field(course_session, "Rich_Description"),
                    "Course": {
                        "Id": course["Id"],
                        "Name": course["Name"],
                        "Description": _field(course, "Description"),
                        "Rich_Description": _field(course, "Rich_Description"),
                    },
                },
            }
        )

    location_rows = [
        {
            "Id": location["Id"],
            "Name": location["Name"],
            **{
                f"Address_{part}": _field(location, f"Address_{part}")
                for part in ("Street", "City", "State", "Postal_Code", "Country")
            },
            "Has_Address": bool(_field(location, "Address_City")),
        }
        for location in locations.values()
    ]
    return {
        "programs.json": list(category_rows.values()),
        "program_categories.json": program_rows,
        "classes.json": class_rows,
        "sessions.json": session_rows,
        "locations.json": location_rows,
    }


def sample_org_folder(org_dir, folder):
    return write_folder(folder, sample_org_records(org_dir))


def make_sample_locations(org_dir):
    """Our branches (and the camp), titled as the org's locations."""
    made = {}
    for location in _load(org_dir, "Location"):
        kind = Location.Kind.CAMP if location["Name"].startswith("Camp") else Location.Kind.BRANCH
        made[location["Id"]] = Location.objects.create(title=location["Name"], kind=kind)
    return made
