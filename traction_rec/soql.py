"""Building SOQL from parts instead of concatenating strings.

Values become literals through `literal()` (strings escaped by the SOQL rules,
Ids validated), conditions are joined with `AND` and parenthesised where an
`OR` would otherwise bind wrongly, and an empty `IN` list is refused here,
before Salesforce answers it with MALFORMED_QUERY.
"""

import datetime as dt
import re

# The escapes SOQL accepts inside a quoted string. `\_` and `\%` exist too, but
# only mean something in LIKE patterns, so plain quoting leaves _ and % alone.
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}

_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
_OBJECT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ID_CHARACTERS = re.compile(r"[A-Za-z0-9]+")
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

OPERATORS = ("=", "!=", "<", "<=", ">", ">=")


class DateLiteral(str):
    """A SOQL date literal (TODAY, YESTERDAY): written as is, never quoted."""


TODAY = DateLiteral("TODAY")
YESTERDAY = DateLiteral("YESTERDAY")
TOMORROW = DateLiteral("TOMORROW")
DATE_LITERALS = {"TODAY": TODAY, "YESTERDAY": YESTERDAY, "TOMORROW": TOMORROW}


def quote(value):
    """A SOQL string literal for `value`, quotes included."""
    if not isinstance(value, str):
        raise TypeError(f"quote() takes a string, not {type(value).__name__}.")

    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            raise ValueError(
                f"The text holds the control character U+{ord(char):04X}, which "
                "a SOQL string cannot carry; remove it from the value."
            )
        else:
            out.append(char)

    return "'" + "".join(out) + "'"


def _checksum(id15):
    suffix = []
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_CHECKSUM_ALPHABET[bits])
    return "".join(suffix)


def normalize_id(value):
    """The 18-character form of a Salesforce Id given in 15 or 18 characters.

    A 15-character Id is case-sensitive; the three characters Salesforce adds
    encode the case of the first fifteen, so an 18-character Id whose suffix
    does not match them is a mistyped Id and is refused.
    """
    if not isinstance(value, str):
        raise ValueError(
            f"A Salesforce Id is text of 15 or 18 letters and digits, not "
            f"{type(value).__name__}."
        )

    text = value.strip()
    if len(text) not in (15, 18):
        raise ValueError(
            f"{text!r} is not a Salesforce Id: an Id has 15 or 18 characters, "
            f"this has {len(text)}."
        )
    if not _ID_CHARACTERS.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a Salesforce Id: an Id holds only letters and digits."
        )

    expected = _checksum(text[:15])
    if len(text) == 15:
        return text + expected
    if text[15:].upper() != expected:
        raise ValueError(
            f"{text!r} is not a valid Salesforce Id: its last three characters "
            f"should be {expected!r} for the first fifteen; check it was copied "
            "whole and with its case."
        )
    return text[:15] + expected


def field(name):
    """`name` checked as a field path (`TREX1__Course_Option__r.Name`)."""
    if not isinstance(name, str) or not _FIELD.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a SOQL field name: use letters, digits and "
            "underscores, with dots between relationship names."
        )
    return name


def literal(value):
    """`value` written as a SOQL literal: null, true/false, a number, a date,
    a date literal or a quoted string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, DateLiteral):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("SOQL has no literal for NaN or infinity.")
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(
                "A SOQL datetime needs a time zone; pass an aware datetime."
            )
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"SOQL has no literal for a {type(value).__name__}.")


def compare(name, operator, value):
    """`name operator value`, e.g. compare("Name", "=", "Pool") -> Name = 'Pool'."""
    if operator not in OPERATORS:
        raise ValueError(
            f"{operator!r} is not a SOQL comparison; use one of "
            f"{', '.join(OPERATORS)}."
        )
    return f"{field(name)} {operator} {literal(value)}"


class EmptyInList(ValueError):
    """An IN list with no values: Salesforce would reject `IN ()`."""


def is_in(name, values, *, ids=False):
    """`name IN (...)`. With ids=True each value is validated as an Id and
    written in its 18-character form. An empty list raises EmptyInList: what
    "no values" should mean (match nothing? no filter?) is the caller's call,
    and guessing it here could silently drop every record."""
    values = list(values)
    if not values:
        raise EmptyInList(
            f"The IN list for {name} is empty; Salesforce rejects IN (). Leave "
            "the condition out, or give at least one value."
        )

    if ids:
        values = [normalize_id(value) for value in values]
    unique = list(dict.fromkeys(values))
    return f"{field(name)} IN ({', '.join(literal(value) for value in unique)})"


def _scan(condition):
    """The condition with whitespace outside string literals collapsed, and the
    AND / OR keywords found at its top level (outside parentheses and quotes)."""
    out = []
    keywords = set()
    depth = 0
    index = 0
    length = len(condition)

    while index < length:
        char = condition[index]
        if char == "'":
            end = index + 1
            while end < length and condition[end] != "'":
                end += 2 if condition[end] == "\\" else 1
            if end >= length:
                raise ValueError(f"The condition {condition!r} leaves a quote open.")
            out.append(condition[index : end + 1])
            index = end + 1
            continue
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
        elif char.isalnum() or char == "_":
            end = index
            while end < length and (condition[end].isalnum() or condition[end] in "_."):
                end += 1
            word = condition[index:end]
            if depth == 0 and word.upper() in ("AND", "OR"):
                keywords.add(word.upper())
            out.append(word)
            index = end
            continue
        else:
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth < 0:
                    raise ValueError(
                        f"The condition {condition!r} closes a parenthesis it "
                        "never opened."
                    )
            out.append(char)
        index += 1

    if depth:
        raise ValueError(
            f"The condition {condition!r} opens a parenthesis it never closes."
        )
    return "".join(out).strip(), keywords


def where(conditions, *, joiner="AND"):
    """The conditions joined by AND (or OR), with whitespace tidied, each
    parenthesised when its own top-level AND / OR would otherwise bind with
    the join's (`a OR b` joined by AND becomes `(a OR b)`)."""
    if joiner not in ("AND", "OR"):
        raise ValueError("Conditions are joined with AND or OR.")

    scanned = []
    for condition in conditions:
        if not isinstance(condition, str):
            raise TypeError(
                f"A condition is SOQL text, not {type(condition).__name__}."
            )
        text, keywords = _scan(condition)
        if text:
            scanned.append((text, keywords))

    if len(scanned) == 1:
        return scanned[0][0]
    parts = []
    for text, keywords in scanned:
        other = keywords - {joiner}
        parts.append(f"({text})" if other else text)
    return f" {joiner} ".join(parts)


def select(sobject, fields, conditions=(), *, order_by=None, limit=None):
    """SELECT fields FROM sobject [WHERE ...] [ORDER BY ...] [LIMIT n]."""
    if not isinstance(sobject, str) or not _OBJECT.fullmatch(sobject):
        raise ValueError(f"{sobject!r} is not a Salesforce object name.")
    names = list(dict.fromkeys(field(name) for name in fields))
    if not names:
        raise ValueError(f"A query on {sobject} needs at least one field.")

    soql = f"SELECT {', '.join(names)} FROM {sobject}"
    condition = where(conditions)
    if condition:
        soql += f" WHERE {condition}"
    if order_by:
        soql += f" ORDER BY {field(order_by)}"
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError("LIMIT takes a whole number of at least 1.")
        soql += f" LIMIT {limit}"
    return soql
