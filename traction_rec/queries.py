"""The Traction Rec queries the site runs, kept as data.

Each query is an object, a field list and conditions (the Drupal module's
queries, from its src/TractionRec.php, plus the wait-list capacity and the
course session's own name and descriptions). Sites deviate from the standard
Traction Rec model, so `settings.TRACTION_REC_QUERY_OVERRIDES` may extend or
replace any of them, per query name:

    {"course_options": {
        "fields": ["TREX1__Course_Option__r.TREX1__Gender__c"],
        "where": ["TREX1__Course_Option__r.TREX1__Type__c != 'Private'",
                  ["TREX1__Course_Option__r.TREX1__Capacity__c", ">", 0]],
        "replace": false}}

"fields" and "where" are added to the standard ones, or stand in for them
with "replace": true; "object" and "location_field" replace theirs. A
condition is SOQL text, or [field, operator, value] with a JSON value (a list
for "IN"); write date literals such as TODAY as text conditions.
`sessions` is accepted as another name for `course_options`.
"""

from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from traction_rec import soql

OPTION = "TREX1__Course_Option__r."
SESSION = "TREX1__Course_Session__r."
COURSE = "TREX1__Course_Session__r.TREX1__Course__r."


@dataclass(frozen=True)
class Query:
    name: str
    object: str
    fields: tuple
    conditions: tuple = ()
    # The lookup the location mapping filters on; None when the query has none.
    location_field: str | None = None
    description: str = field(default="", compare=False)

    def soql(self, *, location_ids=None, limit=None):
        conditions = [_condition(self.name, item) for item in self.conditions]
        if location_ids is not None and self.location_field:
            conditions.append(soql.is_in(self.location_field, location_ids, ids=True))
        return soql.select(self.object, self.fields, conditions, limit=limit)


# The conditions every session and availability query shares: what a visitor
# can register for online, from today on.
OPTION_CONDITIONS = (
    (OPTION + "TREX1__Available_Online__c", "=", True),
    (OPTION + "TREX1__Day_of_Week__c", "!=", None),
    (OPTION + "TREX1__Register_Online_To_Date__c", ">", soql.YESTERDAY),
    (OPTION + "TREX1__End_Date__c", ">=", soql.TODAY),
    (OPTION + "TREX1__Start_Date__c", "!=", None),
    (SESSION + "TREX1__Available_Online__c", "=", True),
    # A session sold with several options is a package the finder cannot show.
    (SESSION + "TREX1__Num_Option_Entitlements__c", "<=", 1),
)

AVAILABILITY_FIELDS = (
    "TREX1__Available__c",
    "TREX1__Capacity__c",
    "TREX1__Registration_Total__c",
    "TREX1__Total_Capacity_Available__c",
    "TREX1__Unlimited_Capacity__c",
    "TREX1__Unlimited_Waitlist_Capacity__c",
    "TREX1__Waitlist_Capacity__c",
    "TREX1__Waitlist_Total__c",
)

STANDARD = {
    query.name: query
    for query in (
        # Traction Rec's Program Category is our Program and its Program our
        # Program Subcategory: the tag links the two.
        Query(
            name="program_category_tags",
            object="TREX1__Program_Category_Tag__c",
            fields=(
                "Id",
                "Name",
                "TREX1__Program__r.Id",
                "TREX1__Program__r.Name",
                "TREX1__Program__r.TREX1__Available__c",
                "TREX1__Program_Category__r.Id",
                "TREX1__Program_Category__r.Name",
                "TREX1__Program_Category__r.TREX1__Available__c",
            ),
            conditions=(
                ("TREX1__Program__r.TREX1__Available_Online__c", "=", True),
                ("TREX1__Program_Category__r.TREX1__Available_Online__c", "=", True),
            ),
            description="Programs and their categories, available online.",
        ),
        Query(
            name="courses",
            object="TREX1__Course__c",
            fields=(
                "Id",
                "Name",
                "TREX1__Description__c",
                "TREX1__Rich_Description__c",
                "TREX1__Available__c",
                "TREX1__Program__r.Id",
                "TREX1__Program__r.Name",
            ),
            conditions=(("TREX1__Available_Online__c", "=", True),),
            description="Courses available online.",
        ),
        Query(
            name="course_options",
            object="TREX1__Course_Session_Option__c",
            fields=(
                "Id",
                OPTION + "Id",
                OPTION + "Name",
                OPTION + "TREX1__Available__c",
                OPTION + "TREX1__Available_Online__c",
                OPTION + "TREX1__Capacity__c",
                OPTION + "TREX1__Start_Date__c",
                OPTION + "TREX1__Start_Time__c",
                OPTION + "TREX1__End_Date__c",
                OPTION + "TREX1__End_Time__c",
                OPTION + "TREX1__Day_of_Week__c",
                OPTION + "TREX1__Instructor__c",
                OPTION + "TREX1__Location__c",
                OPTION + "TREX1__Location__r.Id",
                OPTION + "TREX1__Location__r.Name",
                OPTION + "TREX1__Age_Min__c",
                OPTION + "TREX1__Age_Max__c",
                OPTION + "TREX1__Register_Online_From_Date__c",
                OPTION + "TREX1__Register_Online_From_Time__c",
                OPTION + "TREX1__Register_Online_To_Date__c",
                OPTION + "TREX1__Register_Online_To_Time__c",
                OPTION + "TREX1__Registration_Total__c",
                OPTION + "TREX1__Total_Capacity_Available__c",
                OPTION + "TREX1__Type__c",
                OPTION + "TREX1__Unlimited_Capacity__c",
                OPTION + "TREX1__Unlimited_Waitlist_Capacity__c",
                OPTION + "TREX1__Waitlist_Total__c",
                OPTION + "TREX1__Waitlist_Capacity__c",
                OPTION + "TREX1__Product__c",
                OPTION + "TREX1__Product__r.Id",
                OPTION + "TREX1__Product__r.Name",
                OPTION + "TREX1__Product__r.TREX1__Price_Description__c",
                SESSION + "Id",
                SESSION + "Name",
                SESSION + "TREX1__Description__c",
                SESSION + "TREX1__Rich_Description__c",
                COURSE + "Id",
                COURSE + "Name",
                COURSE + "TREX1__Description__c",
                COURSE + "TREX1__Rich_Description__c",
            ),
            conditions=OPTION_CONDITIONS,
            location_field=OPTION + "TREX1__Location__c",
            description="Course session options with their option and session.",
        ),
        Query(
            name="locations",
            object="TREX1__Location__c",
            fields=(
                "Id",
                "Name",
                "TREX1__Address_Street__c",
                "TREX1__Address_City__c",
                "TREX1__Address_State__c",
                "TREX1__Address_Postal_Code__c",
                "TREX1__Address_Country__c",
            ),
            description="Every location, with its address, for the mapping.",
        ),
        # The quick availability sync: the same options, only what changes
        # between full imports.
        Query(
            name="availability",
            object="TREX1__Course_Session_Option__c",
            fields=("Id", OPTION + "Id")
            + tuple(OPTION + name for name in AVAILABILITY_FIELDS),
            conditions=OPTION_CONDITIONS,
            location_field=OPTION + "TREX1__Location__c",
            description="Availability and wait lists of the same options.",
        ),
    )
}

ALIASES = {"sessions": "course_options"}
OVERRIDE_KEYS = {"object", "fields", "where", "replace", "location_field"}


def names():
    return list(STANDARD)


def _canonical(name):
    name = ALIASES.get(name, name)
    if name not in STANDARD:
        raise KeyError(
            f"There is no Traction Rec query named {name!r}; the queries are "
            f"{', '.join(STANDARD)}."
        )
    return name


def _condition(query_name, item):
    if isinstance(item, str):
        return item
    if isinstance(item, (list, tuple)) and len(item) == 3:
        name, operator, value = item
        if isinstance(operator, str) and operator.upper() == "IN":
            if not isinstance(value, (list, tuple)):
                raise ImproperlyConfigured(
                    f"The {query_name} condition on {name} uses IN, which "
                    "takes a list of values."
                )
            return soql.is_in(name, value)
        return soql.compare(name, operator, value)
    raise ImproperlyConfigured(
        f"A {query_name} condition is SOQL text or [field, operator, value], "
        f"not {item!r}."
    )


def _apply(query, override):
    if not isinstance(override, dict):
        raise ImproperlyConfigured(
            f"TRACTION_REC_QUERY_OVERRIDES[{query.name!r}] must be an object "
            "with fields, where, replace, object or location_field."
        )
    unknown = set(override) - OVERRIDE_KEYS
    if unknown:
        raise ImproperlyConfigured(
            f"TRACTION_REC_QUERY_OVERRIDES[{query.name!r}] has unknown keys "
            f"{', '.join(sorted(unknown))}; use {', '.join(sorted(OVERRIDE_KEYS))}."
        )

    fields = list(override.get("fields", []))
    conditions = list(override.get("where", []))
    for name in fields:
        try:
            soql.field(name)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRACTION_REC_QUERY_OVERRIDES[{query.name!r}]: {exc}"
            ) from None

    if override.get("replace"):
        changes = {"fields": tuple(fields), "conditions": tuple(conditions)}
    else:
        changes = {
            "fields": query.fields + tuple(fields),
            "conditions": query.conditions + tuple(conditions),
        }
    if "object" in override:
        changes["object"] = override["object"]
    if "location_field" in override:
        changes["location_field"] = override["location_field"] or None
    return replace(query, **changes)


def get(name):
    """The query named `name`, with the site's overrides applied."""
    name = _canonical(name)
    query = STANDARD[name]
    overrides = getattr(settings, "TRACTION_REC_QUERY_OVERRIDES", None) or {}
    for key, override in overrides.items():
        if ALIASES.get(key, key) not in STANDARD:
            raise ImproperlyConfigured(
                f"TRACTION_REC_QUERY_OVERRIDES names the query {key!r}, which does "
                f"not exist; the queries are {', '.join(STANDARD)}."
            )
        if ALIASES.get(key, key) == name:
            query = _apply(query, override)
    return query


def build(name, *, location_ids=None):
    """The SOQL for the query `name`.

    location_ids=None fetches every location. A list keeps only options at
    those locations (queries without a location lookup ignore it); an empty
    list raises soql.EmptyInList, because "no location" read as "nothing"
    would make a sync import delete every session.
    """
    return get(name).soql(location_ids=location_ids)
