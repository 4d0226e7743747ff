"""The SOQL tokenizer and parser on their own."""

import pytest

from traction_rec.emulator.soql import (
    Comparison,
    Logical,
    Not,
    SOQLError,
    parse,
    tokenize,
)


def literal_of(soql_literal):
    (token,) = [t for t in tokenize(soql_literal) if t.kind == "string"]
    return token.value


@pytest.mark.parametrize(
    "written, value",
    [
        (r"'it\'s'", "it's"),
        (r"'say \"hi\"'", 'say "hi"'),
        (r"'back\\slash'", "back\\slash"),
        (r"'a\nb\rc\td'", "a\nb\rc\td"),
        (r"'\b\f'", "\b\f"),
        (r"'\N\R\T'", "\n\r\t"),
        (r"'\u00e9\u20AC'", "é€"),
        (r"'100\%'", "100\\%"),
        ("'plain'", "plain"),
        ("''", ""),
    ],
)
def test_string_escapes(written, value):
    assert literal_of(written) == value


@pytest.mark.parametrize(
    "written, message",
    [
        (r"'bad \q'", "Illegal character sequence '\\q' in string literal."),
        (r"'\u12'", "Illegal character sequence '\\u' in string literal."),
        ("'open", "unterminated string literal"),
    ],
)
def test_bad_string_literals(written, message):
    with pytest.raises(SOQLError) as raised:
        tokenize(f"SELECT Id FROM A__c WHERE Name = {written}")

    assert raised.value.code == "MALFORMED_QUERY"
    assert raised.value.message.endswith(message)


def test_it_tells_numbers_dates_and_date_times_apart():
    tokens = tokenize("12 -3.5 2026-12-04 2026-12-04T10:00:00Z TODAY")

    assert [(t.kind, t.value) for t in tokens] == [
        ("number", 12),
        ("number", -3.5),
        ("date", "2026-12-04"),
        ("datetime", "2026-12-04T10:00:00Z"),
        ("keyword", "today"),
        ("eof", None),
    ]


def test_an_impossible_date_is_malformed():
    with pytest.raises(SOQLError) as raised:
        tokenize("SELECT Id FROM A__c WHERE D__c = 2026-02-30")

    assert raised.value.message.endswith("invalid date: 2026-02-30")


def test_the_where_tree_keeps_the_written_grouping():
    query = parse(
        "SELECT Id, A__r.Name FROM B__c WHERE (X__c = 1 OR X__c = 2) "
        "AND NOT Y__c IN ('a') "
        "ORDER BY Name DESC NULLS FIRST LIMIT 5 OFFSET 2"
    )

    assert [path.parts for path in query.fields] == [["Id"], ["A__r", "Name"]]
    assert isinstance(query.where, Logical) and query.where.op == "and"
    either, negated = query.where.items
    assert isinstance(either, Logical) and either.op == "or"
    assert isinstance(negated, Not) and isinstance(negated.item, Comparison)
    assert negated.item.op == "in"
    assert [(o.path.parts, o.descending, o.nulls_first) for o in query.order] == [
        (["Name"], True, True)
    ]
    assert (query.limit, query.offset) == (5, 2)


def test_keywords_are_case_insensitive():
    query = parse(
        "select id from b__c where x__c != null and y__c not in (1, 2) limit 1"
    )

    assert query.object_name == "b__c"
    assert [item.op for item in query.where.items] == ["!=", "notin"]


def test_mixing_and_with_or_needs_parentheses():
    with pytest.raises(SOQLError) as raised:
        parse("SELECT Id FROM B__c WHERE X__c = 1 AND Y__c = 2 OR Z__c = 3")

    assert raised.value.message == (
        "\nSELECT Id FROM B__c WHERE X__c = 1 AND Y__c = 2 OR Z__c = 3\n"
        + " " * 48
        + "^\nERROR at Row:1:Column:49\nunexpected token: 'OR'"
    )


def test_an_error_on_a_later_line_gives_its_row_and_column():
    with pytest.raises(SOQLError) as raised:
        parse("SELECT Id\nFROM B__c\nWHERE X__c = = 1")

    assert raised.value.message == (
        "\nWHERE X__c = = 1\n"
        + " " * 13
        + "^\nERROR at Row:3:Column:14\nunexpected token: '='"
    )
