import pytest

from bench import report, stats, targets


def test_median_takes_the_middle_or_the_mean_of_the_two_middles():
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([4, 1, 3, 2]) == 2.5


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))

    assert stats.percentile(values, 50) == 50
    assert stats.percentile(values, 95) == 95
    assert stats.percentile(values, 99) == 99
    assert stats.percentile([7, 1, 3], 95) == 7
    assert stats.percentile([7, 1, 3], 1) == 1


def test_empty_figures_are_refused():
    with pytest.raises(ValueError, match="^A median needs at least one value.$"):
        stats.median([])
    with pytest.raises(ValueError, match="^A percentile needs at least one value.$"):
        stats.percentile([], 50)


def test_ratio_of_nothing_is_none():
    assert stats.ratio(3, 2) == 1.5
    assert stats.ratio(3, 0) is None


def _document():
    return {
        "machine": {
            "name": "box",
            "cores": 2,
            "memory_bytes": 4 * 1024**3,
            "python": "3.11.7",
            "commit": "abc123",
            "measured_at": "2026-12-04T02:00:00+00:00",
            "load_average_at_start": [3.5, 2.0, 1.0],
            "load_average_at_end": [4.25, 3.0, 2.0],
        },
        "settings": {"sizes": [50000], "repetitions": 3, "parts": ["fetch", "import", "finder"]},
        "duration_seconds": 600.0,
        "fetch": {
            "50000": {
                "ours": {"seconds": 12.0, "peak_rss_mb": 120.0, "pages": 40},
                "floor": {"seconds": 10.0, "peak_rss_mb": 40.0, "pages": 40},
                "peer": {"seconds": 11.0, "peak_rss_mb": 400.0, "pages": 40},
                "ratios": {
                    "ours_over_floor": 1.2,
                    "ours_over_peer": 1.091,
                    "cpu_ours_over_floor": 2.5,
                    "cpu_ours_over_peer": 0.75,
                },
            }
        },
        "import": {
            "50000": {
                "cold": {"seconds": 31.5, "cpu_seconds": 20.0},
                "unchanged": {"seconds": 4.0},
                "changed": {"seconds": 6.0},
                "peak_rss_mb": 250.0,
                "naive": {
                    "seconds": 90.0,
                    "seconds_for_all": 400.0,
                    "sessions_done": 9000,
                    "sessions_total": 40000,
                    "stopped_at_time_limit": False,
                    "scaled": True,
                },
                "ratios": {"naive_over_ours_cold": 12.698, "cpu_naive_over_ours_cold": 15.0},
            }
        },
        "finder": {
            "50000": {
                "postgresql": {
                    "mix_c1": {"p50_ms": 20.0, "p95_ms": 45.0, "p99_ms": 60.0, "rps": 40.0},
                    "trivial_c1": {"p50_ms": 2.0, "p95_ms": 5.0, "p99_ms": 6.0, "rps": 400.0},
                    "p95_over_trivial_c1": 9.0,
                }
            }
        },
        "notes": ["A note."],
    }


def test_it_checks_each_target_against_its_figure():
    document = _document()

    checked = {t["id"]: (t["figure"], t["met"]) for t in targets.check(document)}

    assert checked == {
        "fetch_over_floor": (1.2, True),
        "fetch_over_peer": (1.091, False),
        "fetch_memory": (120.0, True),
        "import_cold": (31.5, False),
        "import_vs_naive": (12.698, True),
        "import_unchanged": (4.0, True),
        "import_memory": (250.0, True),
        "finder_p95": (45.0, True),
        "finder_over_trivial": (9.0, False),
    }


def test_the_table_says_which_targets_were_missed_with_the_figure():
    document = _document()
    document["targets"] = targets.check(document)

    text = report.render(document, "2026-12-04-box.json")

    assert (
        "| 50,000 | fetch faster than simple-salesforce query_all | 1.09x | "
        "**MISSED** (1.09x) |" in text
    )
    assert "| 50,000 | cold import within 30 s | 31.5 s | **MISSED** (31.5 s) |" in text
    assert "| 50,000 | unchanged re-import within 5 s | 4.0 s | yes |" in text
    assert (
        "| 50,000 | 12.00 | 10.00 | 11.00 | 1.20x | 1.09x | 2.50x | 0.75x | 120 | 40 | 400 "
        "| 40 |" in text
    )
    assert (
        "| 50,000 | 31.50 | 20.00 | 4.00 | 6.00 | 250 | 400.00 (scaled from 9,000 of 40,000 "
        "sessions in 90 s) | 12.70x | 15.00x |" in text
    )
    assert (
        "| 50,000 | postgresql | 1 | 20.00 | 45.00 | 60.00 | 40.0 | 5.00 | 400.0 | 9.00x |"
        in text
    )
    assert text.startswith(
        "Measured 2026-12-04T02:00:00+00:00 on `box`: 2 cores, 4.0 GB memory, "
        "Python 3.11.7, commit `abc123`; each figure is the median of 3 runs; "
        "the whole run took 600 s. Source: `results/2026-12-04-box.json`."
    )
    assert (
        "Load average (1 min) 3.5 at the start and 4.2 at the end on 2 cores: the "
        "machine was busy with other work" in text
    )
    assert "- A note." in text
