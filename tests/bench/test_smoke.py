"""Every part of the benchmark at a tiny size, one round, so the benchmark code
cannot rot. The figures are not checked against the targets here (that is
what `make bench` is for), only that each was taken and is sane."""

import json
import os

import pytest

from bench import databases, report, runner

pytestmark = pytest.mark.slow

OPTIONS = 50


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    # PostgreSQL is left out to keep this under a minute; test_postgres_database
    # below covers the bench's own PostgreSQL database.
    return runner.run(
        sizes=[OPTIONS],
        repetitions=1,
        finder_requests=6,
        workdir=tmp_path_factory.mktemp("bench"),
        time_limit=240,
        postgres=False,
    )


def test_it_measures_the_fetch_beside_both_baselines(document):
    fetch = document["fetch"][str(OPTIONS)]

    for kind in ("ours", "floor", "peer"):
        assert fetch[kind]["seconds"] > 0
        assert 10 < fetch[kind]["peak_rss_mb"] < 1000
        assert fetch[kind]["runs"] == [fetch[kind]["seconds"]]
    # One page for each of the four queries at 2,000 records a page.
    assert fetch["ours"]["pages"] == fetch["floor"]["pages"] == fetch["peer"]["pages"] == 4
    assert fetch["floor"]["records"] == fetch["peer"]["records"] > 0
    assert set(fetch["ours"]["files"]) == {
        "programs.json",
        "program_categories.json",
        "classes.json",
        "sessions.json",
        "locations.json",
    }
    assert fetch["ratios"]["ours_over_floor"] == round(
        fetch["ours"]["seconds"] / fetch["floor"]["seconds"], 3
    )
    assert fetch["org_records"]["TREX1__Course_Option__c"] == OPTIONS


def test_it_measures_cold_unchanged_and_changed_imports(document):
    imported = document["import"][str(OPTIONS)]
    sessions = document["fetch"][str(OPTIONS)]["ours"]["files"]["sessions.json"]["records"]

    cold, unchanged, changed = imported["cold"], imported["unchanged"], imported["changed"]
    assert cold["sessions"]["created"] + cold["sessions"]["skipped"] == sessions
    assert unchanged["sessions"]["created"] == unchanged["sessions"]["updated"] == 0
    assert unchanged["sessions"]["unchanged"] == cold["sessions"]["created"]
    # Every 100th session of the folder changed: at most a handful here.
    assert changed["sessions_changed_in_source"] == (sessions + 99) // 100
    assert changed["sessions"]["updated"] <= changed["sessions_changed_in_source"]
    assert imported["peak_rss_mb"] == max(
        cold["peak_rss_mb"], unchanged["peak_rss_mb"], changed["peak_rss_mb"]
    )
    naive = imported["naive"]
    assert naive["sessions_done"] == naive["sessions_total"] == sessions
    assert (naive["sampled_every"], naive["scaled"], naive["stopped_at_time_limit"]) == (
        1,
        False,
        False,
    )
    assert imported["ratios"]["naive_over_ours_cold"] > 0


def test_it_measures_the_finder_mix_and_the_trivial_view(document):
    finder = document["finder"][str(OPTIONS)]["sqlite"]

    assert [path.split("?")[0] for path in finder["mix"]] == [
        "/activities/",
        "/activities/",
        "/activities/",
        "/activities/",
        "/activities/",
        "/af/get-data",
    ]
    for cell in ("mix_c1", "mix_c4", "trivial_c1", "trivial_c4"):
        figures = finder[cell]
        assert figures["failures"] == 0, figures.get("failure_sample")
        assert figures["requests"] == 6
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
        assert figures["rps"] > 0
    assert set(finder["mix_c1"]["by_query_p95_ms"]) == {
        "no_filter",
        "age",
        "day_and_time",
        "location_and_category",
        "keywords",
        "json_api",
    }
    assert finder["p95_over_trivial_c1"] == round(
        finder["mix_c1"]["p95_ms"] / finder["trivial_c1"]["p95_ms"], 3
    )


def test_it_checks_every_target_and_records_the_machine(document):
    assert [t["id"] for t in document["targets"]] == [
        "fetch_over_floor",
        "fetch_over_peer",
        "fetch_memory",
        "import_cold",
        "import_vs_naive",
        "import_unchanged",
        "import_memory",
        "finder_p95",
        "finder_over_trivial",
    ]
    # Without PostgreSQL the finder targets have no figure.
    assert [t["met"] for t in document["targets"][-2:]] == [None, None]
    assert all(t["figure"] is not None for t in document["targets"][:-2])
    assert document["machine"]["cores"] >= 1
    assert document["machine"]["memory_bytes"] > 0
    assert document["notes"] == []


def test_it_writes_the_result_file_and_the_table(document, tmp_path):
    path = report.write_results(document, tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Benchmarks\n\nText above.\n\n{report.START}\nold\n{report.END}\nBelow.\n")

    report.update_readme(json.loads(path.read_text()), path.name, readme=readme)

    text = readme.read_text()
    machine = document["machine"]
    assert path.name == f"{machine['measured_at'][:10]}-{machine['name']}.json"
    assert text.startswith("# Benchmarks\n\nText above.\n\n")
    assert text.endswith(f"{report.END}\nBelow.\n")
    assert "\nold\n" not in text
    assert "| 50 | fetch within 1.3x the plain download floor |" in text
    assert f"Source: `results/{path.name}`." in text


def test_postgres_database_is_created_and_dropped():
    if not databases.postgres_available():
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432")
    import psycopg

    # Not the benchmark's own name: a test run must not drop a running bench's data.
    name = f"bench_finder_smoke_{os.getpid()}"
    url = databases.create_postgres(name)
    with psycopg.connect(url, connect_timeout=5) as conn:
        assert conn.execute("select current_database()").fetchone() == (name,)
    databases.drop_postgres(name)

    with psycopg.connect(f"{databases.POSTGRES_SERVER}/postgres") as conn:
        names = [row[0] for row in conn.execute("select datname from pg_database")]
    assert name not in names
