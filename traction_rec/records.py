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


def simplify(record):
    """A copy of a Salesforce record with simplified keys, nested records and
    subquery results included. Two different fields that would share a key
    raise ValueError naming both, instead of one silently replacing the other.
    """
    if isinstance(record, list):
        return [simplify(item) for item in record]
    if not isinstance(record, dict):
        return record

    lookups = _lookup_pairs(record)
    out = {}
    origin = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        new_key = simplify_key(key)
        if key in lookups:
            new_key += ID_SUFFIX
        if new_key in out:
            raise ValueError(
                f"The fields {origin[new_key]} and {key} both simplify to "
                f"{new_key!r}; leave one of them out of the query."
            )
        origin[new_key] = key
        out[new_key] = simplify(value) if isinstance(value, (dict, list)) else value
    return out
