"""A seeded generator of local-org folders of any size.

It writes the layout of the shared sample org (one `<ObjectApiName>.json` per
Salesforce object holding `{"records": [...]}`, plus `org.json`) with the same
field names and value types, scaled by the number of course options. The
benchmarks, the demo and tests use it when the sample org is too small.

The same seed and anchor date give byte-identical files; the random draws do
not depend on the anchor date, so only the dates move with it. Each file holds
one record per line (valid JSON, faster to write and to diff than an indented
dump).
"""

import datetime as dt
import json
import logging
import math
import random
import time
from pathlib import Path

logger = logging.getLogger(__name__)

NAMESPACE = "TREX1"

# The 3-character key prefixes of the sample org, one per object.
KEY_PREFIXES = {
    "TREX1__Location__c": "a0L",
    "TREX1__Program_Category__c": "a0C",
    "TREX1__Program__c": "a0P",
    "TREX1__Program_Category_Tag__c": "a0T",
    "TREX1__Course__c": "a0K",
    "TREX1__Session__c": "a0S",
    "TREX1__Course_Session__c": "a0E",
    "TREX1__Course_Option__c": "a0O",
    "TREX1__Course_Session_Option__c": "a0X",
    "TREX1__Product__c": "a0D",
}

# Salesforce puts an instance/pod marker after the key prefix; the sample org
# uses this one for every record.
POD = "5e0000"

ID_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# (days, weight) from the sample org's distribution of Day_of_Week values.
DAY_PATTERNS = [
    ("Monday;Tuesday;Wednesday;Thursday;Friday", 43),
    ("Friday", 41),
    ("Wednesday", 39),
    ("Monday", 38),
    ("Saturday", 33),
    ("Sunday", 33),
    ("Tuesday;Thursday", 32),
    ("Thursday", 30),
    ("Monday;Wednesday;Friday", 29),
    ("Tuesday", 25),
    ("Saturday;Sunday", 23),
    ("Monday;Wednesday", 18),
]

PRICES = [
    "Members: $45 / Program Participants: $90",
    "Members: $60 / Program Participants: $120",
    "Members: $85 / Program Participants: $170",
    "Members: $120 / Program Participants: $240",
    "Members: $150 / Program Participants: $300",
    "Members: $240 / Program Participants: $480",
    "Free",
]

INSTRUCTORS = ["A. Rivera", "J. Chen", "M. Okafor", "S. Patel", "Staff", None]
CAPACITIES = [6, 8, 10, 12, 15, 20, 25, 30]

# Category -> programs -> (course titles, age ranges in years, class length in
# minutes). "Camp" programs run only in the summer-like season, at camps.
CATALOGUE = {
    "Aquatics": {
        "Youth Swim Lessons": (
            ["Parent & Child Swim", "Preschool Swim Stage 1",
             "School Age Swim Stage 2", "Swim Team Prep"],
            [(0.5, 3), (3, 5), (2.5, 5), (6, 12), (8, 14)],
            30,
        ),
        "Adult Aquatics": (
            ["Adult Learn to Swim", "Water Fitness"], [(16, None), (55, None)], 45,
        ),
    },
    "Youth Sports": {
        "Basketball": (
            ["Biddy Basketball", "Youth Basketball League"], [(4, 6), (7, 12)], 60,
        ),
        "Soccer": (["Soccer Tots", "Youth Soccer"], [(2, 4), (5, 10)], 45),
        "Gymnastics": (
            ["Tumbling Tots", "Gymnastics Level 1"], [(3, 6), (5, 12)], 60,
        ),
    },
    "Health & Fitness": {
        "Group Exercise": (
            ["Zumba", "Cycle", "Yoga Flow"], [(16, None), (14, None)], 45,
        ),
        "Personal Training": (["Small Group Training"], [(18, None)], 60),
        "Healthy Living": (
            ["Enhance Fitness", "Diabetes Prevention Program"],
            [(55, None), (18, None)],
            60,
        ),
    },
    "Arts & Enrichment": {
        "Dance": (["Creative Movement", "Hip Hop Dance"], [(3, 5), (8, 14)], 45),
        "Art Studio": (["Little Artists", "Teen Art Lab"], [(4, 6), (13, 17)], 60),
    },
    "Camp": {
        "Day Camp": (
            ["Summer Day Camp", "Teen Leadership Camp"], [(5, 12), (13, 15)], 0,
        ),
    },
    "Adult Sports": {
        "Pickleball": (["Pickleball Clinic"], [(18, None), (16, None)], 90),
    },
}
CAMP_CATEGORY = "Camp"

# The program listed under a second category, as in the sample org.
SECOND_CATEGORY = ("Gymnastics", "Arts & Enrichment")

BRANCH_PLACES = [
    ("Downtown", "Chicago", "60601"), ("Lakeview", "Chicago", "60657"),
    ("South Side", "Chicago", "60637"), ("Evanston", "Evanston", "60201"),
    ("Oak Park", "Oak Park", "60302"), ("Naperville", "Naperville", "60540"),
    ("Logan Square", "Chicago", "60647"), ("Hyde Park", "Chicago", "60615"),
    ("Pilsen", "Chicago", "60608"), ("Rogers Park", "Chicago", "60626"),
    ("Skokie", "Skokie", "60076"), ("Wheaton", "Wheaton", "60187"),
    ("Aurora", "Aurora", "60505"), ("Elgin", "Elgin", "60120"),
    ("Joliet", "Joliet", "60432"), ("Schaumburg", "Schaumburg", "60193"),
    ("Arlington Heights", "Arlington Heights", "60004"),
    ("Des Plaines", "Des Plaines", "60016"), ("Oak Lawn", "Oak Lawn", "60453"),
    ("Orland Park", "Orland Park", "60462"), ("Downers Grove", "Downers Grove", "60515"),
    ("Glenview", "Glenview", "60025"), ("Palatine", "Palatine", "60067"),
    ("Bolingbrook", "Bolingbrook", "60440"), ("Waukegan", "Waukegan", "60085"),
    ("Cicero", "Cicero", "60804"), ("Berwyn", "Berwyn", "60402"),
    ("Tinley Park", "Tinley Park", "60477"), ("Hoffman Estates", "Hoffman Estates", "60169"),
    ("Lombard", "Lombard", "60148"), ("Elmhurst", "Elmhurst", "60126"),
    ("Park Ridge", "Park Ridge", "60068"), ("Northbrook", "Northbrook", "60062"),
    ("Highland Park", "Highland Park", "60035"), ("Carol Stream", "Carol Stream", "60188"),
    ("Romeoville", "Romeoville", "60446"), ("Plainfield", "Plainfield", "60544"),
    ("St. Charles", "St. Charles", "60174"), ("Geneva", "Geneva", "60134"),
    ("Batavia", "Batavia", "60510"), ("Crystal Lake", "Crystal Lake", "60014"),
    ("McHenry", "McHenry", "60050"), ("Gurnee", "Gurnee", "60031"),
    ("Libertyville", "Libertyville", "60048"), ("Mundelein", "Mundelein", "60060"),
    ("Wilmette", "Wilmette", "60091"), ("Winnetka", "Winnetka", "60093"),
    ("Lincoln Park", "Chicago", "60614"), ("Bronzeville", "Chicago", "60653"),
    ("Austin", "Chicago", "60644"), ("Humboldt Park", "Chicago", "60651"),
    ("Little Village", "Chicago", "60623"), ("Beverly", "Chicago", "60643"),
    ("Portage Park", "Chicago", "60641"), ("Edgewater", "Chicago", "60660"),
    ("Uptown", "Chicago", "60640"), ("Chinatown", "Chicago", "60616"),
    ("Garfield Park", "Chicago", "60624"), ("Albany Park", "Chicago", "60625"),
    ("Jefferson Park", "Chicago", "60630"),
]
CAMP_PLACES = [
    ("Camp Lake Shore", "Lake Geneva", "WI", "53147"),
    ("Camp Pine Ridge", "Eagle River", "WI", "54521"),
    ("Camp Prairie Wind", "Oregon", "IL", "61061"),
    ("Camp Fox River", "Yorkville", "IL", "60560"),
    ("Camp Red Oak", "Galena", "IL", "61036"),
    ("Camp Silver Birch", "Minocqua", "WI", "54548"),
    ("Camp Cedar Point", "Delavan", "WI", "53115"),
    ("Camp Blue Heron", "Ottawa", "IL", "61350"),
    ("Camp Timber Lake", "Twin Lakes", "WI", "53181"),
    ("Camp Willow Bend", "Rockford", "IL", "61101"),
]
STREETS = [
    "W Lake St", "N Marshfield Ave", "S Stony Island Ave", "Grove St",
    "S Marion St", "S Washington St", "N Milwaukee Ave", "W Division St",
    "S Halsted St", "N Clark St", "Main St", "Church St", "Oak Ave", "Elm St",
]

RICH_TEMPLATES = [
    "<p><strong>{name}</strong> builds skills and confidence.</p>"
    "<ul><li>Small groups</li><li>Certified instructors</li></ul>",
    "<p>{name} meets every week.&nbsp;Bring water &amp; a towel.</p>"
    "<p><em>Members register first.</em></p>",
    '<p><span style="font-size: 14px;">{name}</span> for every level.<br>'
    "Questions? Ask at the front desk.</p>",
    '<div><h3>{name}</h3><p>Our coaches&#39; favourite class.</p>'
    '<p><a href="https://www.ymca.example/programs">More programs</a></p></div>',
]
# Rich descriptions that carry no text: the import must treat them as empty.
EMPTY_RICH = ["", "<p>&nbsp;</p>", "<p><br></p>", "   "]


def checksum(id15):
    """The 3-character case checksum that makes a 15-character Id unique
    regardless of case (one bit per uppercase letter in each 5-char chunk)."""
    suffix = []
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[start:start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(CHECKSUM_CHARS[bits])
    return "".join(suffix)


class _Ids:
    """Unique 18-character Ids per object, drawn from one seeded generator."""

    def __init__(self, rng):
        self._rng = rng
        self._seen = set()

    def new(self, object_name):
        prefix = KEY_PREFIXES[object_name] + POD
        choices = self._rng.choices
        while True:
            id15 = prefix + "".join(choices(ID_CHARS, k=6))
            if id15 not in self._seen:
                self._seen.add(id15)
                return id15 + checksum(id15)


def _text_time(minutes):
    hour, minute = divmod(minutes, 60)
    suffix = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d} {suffix}"


def _season_name(start):
    names = {12: "Winter", 1: "Winter", 2: "Winter", 3: "Spring", 4: "Spring",
             5: "Spring", 6: "Summer", 7: "Summer", 8: "Summer"}
    year = start.year + 1 if start.month == 12 else start.year
    return f"{names.get(start.month, 'Fall')} {year}"


def _seasons(anchor):
    """Four seasons around the anchor date: one already over, one running (its
    online registration open), one starting soon, and a summer-like one where
    the camps run. Starts are Mondays so whole-week shifts keep weekdays."""
    monday = anchor - dt.timedelta(days=anchor.weekday())
    week = dt.timedelta(weeks=1)
    spans = [
        ("past", monday - 16 * week, monday - 4 * week + dt.timedelta(days=4)),
        ("current", monday - 3 * week, monday + 9 * week + dt.timedelta(days=4)),
        ("next", monday + 11 * week, monday + 23 * week + dt.timedelta(days=4)),
        ("camp", monday + 25 * week, monday + 35 * week + dt.timedelta(days=4)),
    ]
    seasons = []
    used = set()
    for kind, start, end in spans:
        name = _season_name(start)
        if name in used:
            name = f"{name} II"
        used.add(name)
        seasons.append({"kind": kind, "name": name, "start": start, "end": end})
    return seasons


def _scale(options):
    """How many branches, camps and variants of each program an org of this
    many options has (sample-org proportions at 400 options)."""
    branches = min(len(BRANCH_PLACES), max(6, round(options / 1000)))
    camps = min(len(CAMP_PLACES), max(1, branches // 6))
    program_variants = max(1, round(math.sqrt(options / 400)))
    return branches, camps, program_variants


def build_org(*, options=400, seed=1, anchor_date=None):
    """The org as a dict of object name -> list of records (in file order)."""
    if options < 1:
        raise ValueError("The number of course options must be at least 1.")
    anchor = anchor_date or dt.date.today()
    if isinstance(anchor, str):
        anchor = dt.date.fromisoformat(anchor)
    rng = random.Random(seed)
    ids = _Ids(rng)
    random_ = rng.random
    choice = rng.choice
    randint = rng.randint
    branches, camps, program_variants = _scale(options)
    org = {name: [] for name in KEY_PREFIXES}

    # Locations: branches, camps, and a virtual location without an address.
    branch_ids = []
    for index in range(branches):
        place, city, postal = BRANCH_PLACES[index]
        location_id = ids.new("TREX1__Location__c")
        branch_ids.append(location_id)
        org["TREX1__Location__c"].append({
            "Id": location_id,
            "Name": f"{place} YMCA",
            "TREX1__Address_City__c": city,
            "TREX1__Address_State__c": "IL",
            "TREX1__Address_Street__c": f"{randint(10, 9999)} {choice(STREETS)}",
            "TREX1__Address_Postal_Code__c": postal,
            "TREX1__Address_Country__c": "United States",
        })
    camp_ids = []
    for index in range(camps):
        name, city, state, postal = CAMP_PLACES[index]
        location_id = ids.new("TREX1__Location__c")
        camp_ids.append(location_id)
        org["TREX1__Location__c"].append({
            "Id": location_id,
            "Name": name,
            "TREX1__Address_City__c": city,
            "TREX1__Address_State__c": state,
            "TREX1__Address_Street__c": f"W{randint(1000, 9999)} Camp Rd",
            "TREX1__Address_Postal_Code__c": postal,
            "TREX1__Address_Country__c": "United States",
        })
    org["TREX1__Location__c"].append({
        "Id": ids.new("TREX1__Location__c"),
        "Name": "Virtual",
        "TREX1__Address_City__c": None,
        "TREX1__Address_State__c": None,
        "TREX1__Address_Street__c": None,
        "TREX1__Address_Postal_Code__c": None,
        "TREX1__Address_Country__c": None,
    })

    # Program categories and programs (with their tags), then the hidden ones.
    category_ids = {}
    for category in list(CATALOGUE) + ["Staff Only"]:
        category_ids[category] = ids.new("TREX1__Program_Category__c")
        org["TREX1__Program_Category__c"].append({
            "Id": category_ids[category],
            "Name": category,
            "TREX1__Available__c": True,
            "TREX1__Available_Online__c": category != "Staff Only",
        })
    tags = []
    programs = []  # (program id, category, titles, ages, minutes, variant)
    for variant in range(1, program_variants + 1):
        for category, catalogue in CATALOGUE.items():
            for program, (titles, ages, minutes) in catalogue.items():
                name = program if variant == 1 else f"{program} {variant}"
                program_id = ids.new("TREX1__Program__c")
                org["TREX1__Program__c"].append({
                    "Id": program_id,
                    "Name": name,
                    "TREX1__Available__c": True,
                    "TREX1__Available_Online__c": True,
                    "TREX1__Description__c": f"{name} at the Y.",
                })
                tags.append((program_id, category_ids[category]))
                if variant == 1 and program == SECOND_CATEGORY[0]:
                    second_tag = (program_id, category_ids[SECOND_CATEGORY[1]])
                programs.append((program_id, category, titles, ages, minutes, variant))
    staff_program = ids.new("TREX1__Program__c")
    org["TREX1__Program__c"].append({
        "Id": staff_program,
        "Name": "Staff Training",
        "TREX1__Available__c": True,
        "TREX1__Available_Online__c": False,
        "TREX1__Description__c": "Internal.",
    })
    tags += [second_tag, (staff_program, category_ids["Staff Only"])]
    for number, (program_id, category_id) in enumerate(tags, start=1):
        org["TREX1__Program_Category_Tag__c"].append({
            "Id": ids.new("TREX1__Program_Category_Tag__c"),
            "Name": f"PCT-{number:05d}",
            "TREX1__Program__c": program_id,
            "TREX1__Program_Category__c": category_id,
        })

    # Seasons (Traction Rec's Session object).
    seasons = _seasons(anchor)
    for season in seasons:
        season["id"] = ids.new("TREX1__Session__c")
        org["TREX1__Session__c"].append({
            "Id": season["id"],
            "Name": season["name"],
            "TREX1__Start_Date__c": season["start"].isoformat(),
            "TREX1__End_Date__c": season["end"].isoformat(),
            "TREX1__Available__c": True,
            "TREX1__Available_Online__c": True,
        })
    regular_seasons = [s for s in seasons if s["kind"] != "camp"]
    for season in seasons:
        season["dates"] = (
            season["start"].isoformat(),
            season["end"].isoformat(),
            (season["start"] - dt.timedelta(days=30)).isoformat(),
            (season["end"] - dt.timedelta(days=7)).isoformat(),
        )

    day_patterns = [days for days, _ in DAY_PATTERNS]
    day_weights = [weight for _, weight in DAY_PATTERNS]
    courses = org["TREX1__Course__c"]
    course_sessions = org["TREX1__Course_Session__c"]
    products = org["TREX1__Product__c"]
    course_options = org["TREX1__Course_Option__c"]
    session_options = org["TREX1__Course_Session_Option__c"]
    made = 0
    course_round = 0
    while made < options:
        course_round += 1
        for program_id, category, titles, ages, minutes, variant in programs:
            if made >= options:
                break
            is_camp = category == CAMP_CATEGORY
            for title_index, title in enumerate(titles):
                if made >= options:
                    break
                name = title if course_round == 1 else f"{title} {course_round}"
                if variant > 1:
                    name = f"{name} ({variant})"
                code = "".join(word[0] for word in title.split()).upper()
                rich = None
                if random_() < 0.58:
                    rich = choice(RICH_TEMPLATES).format(name=name)
                elif random_() < 0.05:
                    rich = choice(EMPTY_RICH)
                description = f"{name}: plain description."
                if random_() < 0.02:
                    description = choice(["", None])
                course_id = ids.new("TREX1__Course__c")
                courses.append({
                    "Id": course_id,
                    "Name": name,
                    "TREX1__Available__c": True,
                    "TREX1__Available_Online__c": random_() >= 0.01,
                    "TREX1__Code__c": f"{code}{course_round if course_round > 1 else ''}",
                    "TREX1__Description__c": description,
                    "TREX1__Rich_Description__c": rich,
                    "TREX1__Program__c": program_id,
                })
                age_min, age_max = ages[title_index % len(ages)]
                course_seasons = [seasons[3]] if is_camp else regular_seasons + [seasons[3]]
                price = choice(PRICES)
                for season in course_seasons:
                    if made >= options:
                        break
                    product_id = ids.new("TREX1__Product__c")
                    products.append({
                        "Id": product_id,
                        "Name": f"{name} fee",
                        "TREX1__Price_Description__c": price,
                    })
                    session_id = ids.new("TREX1__Course_Session__c")
                    session_rich = None
                    if random_() < 0.05:
                        session_rich = f"<p>{name} in {season['name']}.</p>"
                    course_sessions.append({
                        "Id": session_id,
                        "Name": f"{name} - {season['name']}",
                        "TREX1__Course__c": course_id,
                        "TREX1__Session__c": season["id"],
                        "TREX1__Available__c": True,
                        "TREX1__Available_Online__c": random_() >= 0.01,
                        "TREX1__Code__c": None,
                        "TREX1__Description__c": None,
                        "TREX1__Rich_Description__c": session_rich,
                        "TREX1__Num_Option_Entitlements__c": 2 if random_() < 0.01 else 1,
                        "TREX1__Product__c": product_id,
                    })
                    start_date, end_date, register_from, register_to = season["dates"]
                    places = camp_ids if is_camp else branch_ids
                    per_session = rng.choices((1, 2, 3), weights=(43, 94, 51))[0]
                    for _ in range(min(per_session, options - made)):
                        made += 1
                        if is_camp:
                            days = "Monday;Tuesday;Wednesday;Thursday;Friday"
                            start = 8 * 60
                            end = start + choice((8, 9)) * 60
                        else:
                            days = rng.choices(day_patterns, weights=day_weights)[0]
                            start = randint(24, 79) * 15  # 6:00 AM to 7:45 PM
                            end = start + minutes
                        capacity = choice(CAPACITIES)
                        registered = randint(0, capacity + 2)
                        start_text = _text_time(start)
                        option_id = ids.new("TREX1__Course_Option__c")
                        course_options.append({
                            "Id": option_id,
                            "Name": f"{name} {days[:3]} {start_text}",
                            "TREX1__Age_Min__c": age_min,
                            "TREX1__Age_Max__c": age_max,
                            "TREX1__Available__c": True,
                            "TREX1__Available_Online__c": random_() >= 0.015,
                            "TREX1__Capacity__c": capacity,
                            "TREX1__Day_of_Week__c": days,
                            "TREX1__Start_Date__c": start_date,
                            "TREX1__End_Date__c": end_date,
                            "TREX1__Start_Time__c": start_text,
                            "TREX1__End_Time__c": _text_time(end),
                            "TREX1__Instructor__c": choice(INSTRUCTORS),
                            "TREX1__Location__c": choice(places),
                            "TREX1__Product__c": product_id,
                            "TREX1__Register_Online_From_Date__c": register_from,
                            "TREX1__Register_Online_From_Time__c": "8:00 AM",
                            "TREX1__Register_Online_To_Date__c": register_to,
                            "TREX1__Register_Online_To_Time__c": "11:59 PM",
                            "TREX1__Registration_Total__c": registered,
                            "TREX1__Total_Capacity_Available__c": capacity - registered,
                            "TREX1__Type__c": "Standard Course Option",
                            "TREX1__Unlimited_Capacity__c": random_() < 0.055,
                            "TREX1__Unlimited_Waitlist_Capacity__c": random_() < 0.21,
                            "TREX1__Waitlist_Capacity__c": 5,
                            "TREX1__Waitlist_Total__c": choice((0, 0, 1, 3)),
                        })
                        session_options.append({
                            "Id": ids.new("TREX1__Course_Session_Option__c"),
                            "Name": f"CSO-{made:06d}",
                            "TREX1__Course_Option__c": option_id,
                            "TREX1__Course_Session__c": session_id,
                            "TREX1__Option_Available__c": True,
                            "TREX1__Option_Capacity__c": capacity,
                            "TREX1__Option_Registration_Total__c": registered,
                        })
    org["_anchor_date"] = anchor
    return org


def write_org(directory, *, options=400, seed=1, anchor_date=None):
    """Write a local-org folder of about `options` course options (exactly that
    many) and return the record count of each object."""
    started = time.monotonic()
    org = build_org(options=options, seed=seed, anchor_date=anchor_date)
    anchor = org.pop("_anchor_date")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dumps = json.dumps
    counts = {}
    for name, records in org.items():
        counts[name] = len(records)
        body = ",\n".join(dumps(record) for record in records)
        text = '{"records": [\n' + body + "\n]}\n" if records else '{"records": []}\n'
        (directory / f"{name}.json").write_text(text, encoding="utf-8")
    summary = {"anchor_date": anchor.isoformat(), "namespace": NAMESPACE, "counts": counts}
    (directory / "org.json").write_text(dumps(summary, indent=1) + "\n", encoding="utf-8")
    logger.info(
        "Generated an org of %s options (seed %s) in %.1f s",
        options, seed, time.monotonic() - started,
    )
    return counts
