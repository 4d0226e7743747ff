"""Fetch folders written by hand, in the layout of COMMON.md, for bad-file tests.

`catalogue_files()` gives a small valid catalogue (one program, subcategory,
course and N sessions at one location) as {file name: list of records};
tests break one record or one file, and `write_folder()` publishes it under
fetch/ with a manifest whose checksums match, as `tr_fetch` would.
"""

import copy
import datetime as dt
import hashlib
import json
import secrets

from traction_rec.soql import normalize_id

LOCATION_NAME = "Faults Branch YMCA"
START = dt.date(2027, 1, 4)  # a Monday, a month after today


def sf_id(prefix, number):
    """An 18-character Id with a valid checksum: a 3-letter prefix, 12 digits."""
    return normalize_id(f"{prefix}{number:012d}")


PROGRAM = sf_id("a0C", 1)
SUBCATEGORY = sf_id("a0P", 1)
COURSE = sf_id("a0K", 1)
LOCATION = sf_id("a0L", 1)


def option_id(number):
    return sf_id("a0O", number)


def session_row(number, **option_changes):
    option = {
        "Id": option_id(number),
        "Name": f"Swim Lesson {number}",
        "Available": True,
        "Available_Online": True,
        "Capacity": 10,
        "Start_Date": START.isoformat(),
        "Start_Time": "6:00 PM",
        "End_Date": (START + dt.timedelta(weeks=8)).isoformat(),
        "End_Time": "6:45 PM",
        "Day_of_Week": "Monday;Wednesday",
        "Instructor": "A. Rivera",
        "Location_Id": LOCATION,
        "Location": {"Id": LOCATION, "Name": LOCATION_NAME},
        "Age_Min": 3,
        "Age_Max": 5,
        "Register_Online_From_Date": "2026-11-01",
        "Register_Online_From_Time": "12:00 AM",
        "Register_Online_To_Date": "2027-01-03",
        "Register_Online_To_Time": "11:59 PM",
        "Registration_Total": 4,
        "Total_Capacity_Available": 6,
        "Type": "Standard Course Option",
        "Unlimited_Capacity": False,
        "Unlimited_Waitlist_Capacity": False,
        "Waitlist_Total": 0,
        "Waitlist_Capacity": 5,
        "Product_Id": sf_id("a0D", number),
        "Product": {
            "Id": sf_id("a0D", number),
            "Name": "Swim",
            "Price_Description": "Members: $45",
        },
    }
    option.update(option_changes)
    return {
        "Id": sf_id("a0X", number),
        "Course_Option": option,
        "Course_Session": {
            "Id": sf_id("a0E", number),
            "Name": f"Swim Session {number}",
            "Description": "Weekly lessons.",
            "Rich_Description": None,
            "Course": {
                "Id": COURSE,
                "Name": "Swim Lessons",
                "Description": "Learn to swim.",
                "Rich_Description": "<p>Learn to <b>swim</b>.</p>",
            },
        },
    }


def catalogue_files(sessions=3):
    return {
        "programs.json": [{"Id": PROGRAM, "Name": "Aquatics", "Available": True}],
        "program_categories.json": [
            {
                "Id": SUBCATEGORY,
                "Name": "Swim Lessons",
                "Available": True,
                "Program": {"Id": PROGRAM, "Name": "Aquatics", "Available": True},
            }
        ],
        "classes.json": [
            {
                "Id": COURSE,
                "Name": "Swim Lessons",
                "Description": "Learn to swim.",
                "Rich_Description": "<p>Learn to <b>swim</b>.</p>",
                "Available": True,
                "Program": {"Id": SUBCATEGORY, "Name": "Swim Lessons"},
            }
        ],
        "sessions.json": [session_row(number) for number in range(1, sessions + 1)],
        "locations.json": [
            {
                "Id": LOCATION,
                "Name": LOCATION_NAME,
                "Address_Street": "1 Main St",
                "Address_City": "Evanston",
                "Address_State": "IL",
                "Address_Postal_Code": "60201",
                "Address_Country": "US",
                "Has_Address": True,
            }
        ],
    }


def write_folder(root, files, *, raw=None, manifest=True, stamp="20261204T020000Z"):
    """Publish files (lists of records) and raw texts ({name: str}) as a folder
    under root/fetch/, with a complete manifest unless manifest=False."""
    folder = root / "fetch" / f"{stamp}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True)
    entries = {}
    files = copy.deepcopy(files)
    texts = {name: json.dumps(records) for name, records in files.items()}
    texts.update(raw or {})
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        records = files.get(name)
        entries[name] = {
            "status": "complete",
            "records": len(records) if isinstance(records, list) else 0,
            "pages": 1,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "error": None,
        }
    if manifest:
        document = {
            "format": 1,
            "run_id": 1,
            "started_at": "2026-12-04T02:00:00+00:00",
            "finished_at": "2026-12-04T02:00:05+00:00",
            "status": "complete",
            "api_usage": None,
            "files": entries,
        }
        (folder / "manifest.json").write_text(json.dumps(document), encoding="utf-8")
    return folder
