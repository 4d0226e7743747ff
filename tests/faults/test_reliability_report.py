"""The generator of docs/reliability.md, on rows made up here."""

import datetime as dt

from tests.faults.reliability import Row, render

WHEN = dt.datetime(2026, 12, 4, 2, 30, tzinfo=dt.timezone.utc)


def test_it_renders_one_table_per_section_with_the_outcome_and_its_reason():
    rows = [
        Row(
            nodeid="tests/faults/test_a.py::test_one[page 2]",
            section="Faults of the org",
            kind="fault",
            name="503 | on page 2",
            expected="completes after a retry",
            observed=["complete", "3 requests"],
            result="passed",
        ),
        Row(
            nodeid="tests/faults/test_b.py::test_two",
            section="Attacks",
            kind="attack",
            name="XSS in a name",
            expected="rendered inert",
            result="xfail",
            detail="escaped twice, views.py:10",
        ),
    ]

    text = render(rows, sections=["Faults of the org", "Attacks"], commit="abc123",
                  database="sqlite3", when=WHEN)

    assert text.splitlines()[4:6] == [
        "- Run: 2026-12-04 02:30 UTC, commit abc123, database sqlite3",
        "- Tests: 2 (1 passed, 1 xfail)",
    ]
    assert (
        "| 503 \\| on page 2 | completes after a retry | complete; 3 requests "
        "| passed | `test_one[page 2]` |"
    ) in text
    assert (
        "| XSS in a name | rendered inert | - | xfail: escaped twice, views.py:10 "
        "| `test_two` |"
    ) in text
    assert text.index("## Faults of the org") < text.index("## Attacks")


def test_it_leaves_out_a_section_without_rows():
    text = render([], sections=["Empty"], when=WHEN)

    assert "## Empty" not in text
    assert "- Tests: 0 (none)" in text
