import datetime as dt

import pytest

from traction_rec import soql


class TestQuote:
    def test_it_wraps_plain_text_in_single_quotes(self):
        assert soql.quote("Downtown YMCA") == "'Downtown YMCA'"

    def test_it_escapes_quotes_and_backslashes(self):
        assert soql.quote("O'Brien \\ \"Jr\"") == "'O\\'Brien \\\\ \\\"Jr\\\"'"

    def test_it_escapes_line_breaks_and_tabs(self):
        assert soql.quote("a\nb\rc\td\be\ff") == "'a\\nb\\rc\\td\\be\\ff'"

    def test_it_leaves_like_wildcards_alone(self):
        assert soql.quote("100%_sure") == "'100%_sure'"

    def test_it_keeps_unicode(self):
        assert soql.quote("Niños – Ñandú") == "'Niños – Ñandú'"

    def test_it_refuses_other_control_characters(self):
        with pytest.raises(ValueError) as caught:
            soql.quote("a\x00b")

        assert str(caught.value) == (
            "The text holds the control character U+0000, which a SOQL string "
            "cannot carry; remove it from the value."
        )

    def test_it_refuses_what_is_not_text(self):
        with pytest.raises(TypeError, match="quote\\(\\) takes a string, not int."):
            soql.quote(5)

    def test_an_injection_attempt_stays_inside_the_literal(self):
        assert soql.compare("Name", "=", "x' OR Name != '") == (
            "Name = 'x\\' OR Name != \\''"
        )


class TestNormalizeId:
    def test_it_adds_the_case_checksum_to_a_15_character_id(self):
        assert soql.normalize_id("a0O5e0000eYy3tq") == "a0O5e0000eYy3tqEAB"

    def test_it_keeps_a_valid_18_character_id(self):
        assert soql.normalize_id("a0L5e0000HIhd4eEQB") == "a0L5e0000HIhd4eEQB"

    def test_it_reads_the_suffix_in_any_case(self):
        assert soql.normalize_id("a0L5e0000HIhd4eeqb") == "a0L5e0000HIhd4eEQB"

    def test_it_knows_all_lower_and_all_upper_chunks(self):
        assert soql.normalize_id("aaaaaaaaaaaaaaa") == "aaaaaaaaaaaaaaaAAA"
        assert soql.normalize_id("AAAAAAAAAAAAAAA") == "AAAAAAAAAAAAAAA555"

    def test_it_strips_surrounding_spaces(self):
        assert soql.normalize_id("  a0O5e0000eYy3tq ") == "a0O5e0000eYy3tqEAB"

    def test_it_refuses_a_wrong_length(self):
        with pytest.raises(ValueError) as caught:
            soql.normalize_id("a0O5e0000eYy3")

        assert str(caught.value) == (
            "'a0O5e0000eYy3' is not a Salesforce Id: an Id has 15 or 18 "
            "characters, this has 13."
        )

    def test_it_refuses_characters_an_id_cannot_hold(self):
        with pytest.raises(ValueError) as caught:
            soql.normalize_id("a0O5e0000e'y3tq")

        assert str(caught.value) == (
            "\"a0O5e0000e'y3tq\" is not a Salesforce Id: an Id holds only "
            "letters and digits."
        )

    def test_it_refuses_an_18_character_id_with_a_wrong_checksum(self):
        # a0O5e -> O at 2 -> 4 -> E; 0000e -> 0 -> A; Yy3Tq -> Y at 0, T at 3 -> 9 -> J
        with pytest.raises(ValueError) as caught:
            soql.normalize_id("a0O5e0000eYy3TqEAB")

        assert str(caught.value) == (
            "'a0O5e0000eYy3TqEAB' is not a valid Salesforce Id: its last three "
            "characters should be 'EAJ' for the first fifteen; check it was "
            "copied whole and with its case."
        )

    def test_it_refuses_what_is_not_text(self):
        with pytest.raises(ValueError, match="not NoneType"):
            soql.normalize_id(None)

    def test_every_sample_org_id_survives_the_round_trip(self, sample_org_dir):
        import json

        ids = []
        for path in sample_org_dir.glob("TREX1__*.json"):
            ids += [record["Id"] for record in json.loads(path.read_text())["records"]]

        assert len(ids) == 1240
        assert [soql.normalize_id(value[:15]) for value in ids] == ids


class TestLiteral:
    @pytest.mark.parametrize(
        "value, expected",
        [
            (None, "null"),
            (True, "true"),
            (False, "false"),
            (3, "3"),
            (-2, "-2"),
            (2.5, "2.5"),
            (dt.date(2026, 12, 4), "2026-12-04"),
            (
                dt.datetime(2026, 12, 4, 6, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6))),
                "2026-12-04T12:30:00Z",
            ),
            (soql.TODAY, "TODAY"),
            (soql.YESTERDAY, "YESTERDAY"),
            ("TODAY", "'TODAY'"),
        ],
    )
    def test_it_writes_each_type(self, value, expected):
        assert soql.literal(value) == expected

    def test_it_refuses_a_naive_datetime(self):
        with pytest.raises(ValueError, match="needs a time zone"):
            soql.literal(dt.datetime(2026, 12, 4, 6, 30))

    def test_it_refuses_nan(self):
        with pytest.raises(ValueError, match="NaN"):
            soql.literal(float("nan"))


class TestConditions:
    def test_compare_checks_the_operator(self):
        with pytest.raises(ValueError) as caught:
            soql.compare("Name", "LIKE", "x")

        assert str(caught.value) == (
            "'LIKE' is not a SOQL comparison; use one of =, !=, <, <=, >, >=."
        )

    def test_compare_checks_the_field(self):
        with pytest.raises(ValueError, match="is not a SOQL field name"):
            soql.compare("Name = 'x' OR Id", "=", "y")

    def test_is_in_validates_and_normalises_ids(self):
        assert soql.is_in(
            "TREX1__Location__c", ["a0L5e0000HIhd4e", "a0L5e00006xT50fEAC"], ids=True
        ) == "TREX1__Location__c IN ('a0L5e0000HIhd4eEQB', 'a0L5e00006xT50fEAC')"

    def test_is_in_drops_duplicates(self):
        assert soql.is_in(
            "TREX1__Location__c", ["a0L5e0000HIhd4e", "a0L5e0000HIhd4eEQB"], ids=True
        ) == "TREX1__Location__c IN ('a0L5e0000HIhd4eEQB')"

    def test_is_in_refuses_a_bad_id(self):
        with pytest.raises(ValueError, match="is not a Salesforce Id"):
            soql.is_in("TREX1__Location__c", ["x') OR (Id != '"], ids=True)

    def test_is_in_refuses_an_empty_list_before_salesforce_sees_it(self):
        with pytest.raises(soql.EmptyInList) as caught:
            soql.is_in("TREX1__Location__c", [], ids=True)

        assert str(caught.value) == (
            "The IN list for TREX1__Location__c is empty; Salesforce rejects IN (). "
            "Leave the condition out, or give at least one value."
        )

    def test_is_in_quotes_text_values(self):
        assert soql.is_in("Name", ["O'Hare", "Loop"]) == "Name IN ('O\\'Hare', 'Loop')"


class TestWhere:
    def test_it_joins_conditions_with_and(self):
        assert soql.where(["A = 1", "B = 2"]) == "A = 1 AND B = 2"

    def test_it_parenthesises_a_condition_with_a_top_level_or(self):
        assert soql.where(["A = 1", "B = 2 OR C = 3"]) == "A = 1 AND (B = 2 OR C = 3)"

    def test_it_leaves_an_or_inside_parentheses_alone(self):
        assert soql.where(["A = 1", "(B = 2 OR C = 3) AND D = 4"]) == (
            "A = 1 AND (B = 2 OR C = 3) AND D = 4"
        )

    def test_it_ignores_or_inside_a_string(self):
        assert soql.where(["A = 1", "Name = 'Swim OR Gym'"]) == (
            "A = 1 AND Name = 'Swim OR Gym'"
        )

    def test_it_ignores_or_inside_a_field_name(self):
        assert soql.where(["A = 1", "ORDER__c = 2", "Color__c = 3"]) == (
            "A = 1 AND ORDER__c = 2 AND Color__c = 3"
        )

    def test_it_tidies_whitespace_outside_strings_only(self):
        assert soql.where(["  A   =\n 1 ", "Name = 'two  spaces'"]) == (
            "A = 1 AND Name = 'two  spaces'"
        )

    def test_it_skips_empty_conditions(self):
        assert soql.where(["", "   ", "A = 1"]) == "A = 1"

    def test_a_single_or_condition_needs_no_parentheses(self):
        assert soql.where(["A = 1 or B = 2"]) == "A = 1 or B = 2"

    def test_an_or_join_parenthesises_and_conditions(self):
        assert soql.where(["A = 1 AND B = 2", "C = 3"], joiner="OR") == (
            "(A = 1 AND B = 2) OR C = 3"
        )

    def test_an_escaped_quote_does_not_end_the_string(self):
        assert soql.where(["A = 1", "Name = 'it\\'s OR not'"]) == (
            "A = 1 AND Name = 'it\\'s OR not'"
        )

    def test_it_refuses_an_open_quote(self):
        with pytest.raises(ValueError) as caught:
            soql.where(["Name = 'open"])

        assert str(caught.value) == "The condition \"Name = 'open\" leaves a quote open."

    def test_it_refuses_unbalanced_parentheses(self):
        with pytest.raises(ValueError, match="opens a parenthesis it never closes"):
            soql.where(["(A = 1"])
        with pytest.raises(ValueError, match="closes a parenthesis it never opened"):
            soql.where(["A = 1)"])


class TestSelect:
    def test_it_builds_select_from_where(self):
        assert soql.select(
            "TREX1__Course__c",
            ["Id", "Name", "TREX1__Program__r.Name"],
            [soql.compare("TREX1__Available_Online__c", "=", True)],
        ) == (
            "SELECT Id, Name, TREX1__Program__r.Name FROM TREX1__Course__c "
            "WHERE TREX1__Available_Online__c = true"
        )

    def test_it_leaves_out_an_empty_where(self):
        assert soql.select("TREX1__Location__c", ["Id"]) == (
            "SELECT Id FROM TREX1__Location__c"
        )

    def test_it_drops_duplicate_fields(self):
        assert soql.select("X__c", ["Id", "Name", "Id"]) == "SELECT Id, Name FROM X__c"

    def test_it_adds_order_and_limit(self):
        assert soql.select("X__c", ["Id"], order_by="Name", limit=1) == (
            "SELECT Id FROM X__c ORDER BY Name LIMIT 1"
        )

    def test_it_refuses_no_fields(self):
        with pytest.raises(ValueError, match="A query on X__c needs at least one field."):
            soql.select("X__c", [])

    def test_it_refuses_a_bad_object_name(self):
        with pytest.raises(ValueError, match="is not a Salesforce object name"):
            soql.select("X__c WHERE", ["Id"])

    def test_it_refuses_a_bad_limit(self):
        with pytest.raises(ValueError, match="LIMIT takes a whole number of at least 1."):
            soql.select("X__c", ["Id"], limit=0)
