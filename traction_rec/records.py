"""Simplified record keys, the Drupal module's layout.

`TREX1__Course_Option__r` becomes `Course_Option`, `TREX1__Capacity__c` becomes
`Capacity`, and `attributes` goes. The Drupal module did this with a blind
string replace, so a lookup Id (`TREX1__Location__c`, a string) and its
relationship (`TREX1__Location__r`, an object) both became `Location` and
whichever came last in the response won. Here the pair is recognised: the
object keeps the name and the Id becomes `Location_Id`, whatever the order.
"""

PREFIX = "TREX1__"
ID_SUFFIX = "_Id"


def simplify_key(key):
    """`TREX1__Register_Online_To_Date__c` -> `Register_Online_To_Date`."""
    return key.replace(PREFIX, "").replace("__c", "").replace("__r", "")


def _lookup_pairs(record):
    """Keys `X__c` whose relationship `X__r` is in the record too, where the
    `__c` value is an Id (or empty) and the `__r` value an object (or empty)."""
    pairs = set()
    for key, value in record.items():
        if not key.endswith("__c"):
            continue
        relationship = key[:-3] + "__r"
        if relationship not in record:
            continue
        if (value is None or isinstance(value, str)) and (
            record[relationship] is None or isinstance(record[relationship], dict)
        ):
            pairs.add(key)
    return pairs


# Every record of a query has the same keys, and the same kinds of value
# but for empty lookups, so the key work is done once per shape and reused:
# a fetch of 50,000 options spent most of its CPU here renaming keys.
_PLANS = {}
_MAX_PLANS = 4096


def _kind(value):
    if value is None:
        return 0
    if isinstance(value, str):
        return 1
    if isinstance(value, dict):
        return 2
    if isinstance(value, list):
        return 3
    return 4


def _make_plan(record):
    """(source key, simplified key, nested) for each key but `attributes`.
    Two different fields that would share a key raise ValueError naming both,
    instead of one silently replacing the other."""
    lookups = _lookup_pairs(record)
    plan = []
    origin = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        new_key = simplify_key(key)
        if key in lookups:
            new_key += ID_SUFFIX
        if new_key in origin:
            raise ValueError(
                f"The fields {origin[new_key]} and {key} both simplify to "
                f"{new_key!r}; leave one of them out of the query."
            )
        origin[new_key] = key
        plan.append((key, new_key, isinstance(value, (dict, list))))
    return tuple(plan)


def _plan(record):
    shape = tuple([(key, _kind(value)) for key, value in record.items()])
    plan = _PLANS.get(shape)
    if plan is None:
        plan = _make_plan(record)
        if len(_PLANS) < _MAX_PLANS:
            _PLANS[shape] = plan
    return plan


def simplify(record):
    """A copy of a Salesforce record with simplified keys, nested records and
    subquery results included (see _make_plan for the one refusal)."""
    if isinstance(record, list):
        return [simplify(item) for item in record]
    if not isinstance(record, dict):
        return record

    out = {}
    for key, new_key, nested in _plan(record):
        value = record[key]
        out[new_key] = simplify(value) if nested else value
    return out
