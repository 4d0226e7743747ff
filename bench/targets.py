"""The speed targets of the fetch, import and finder issues, checked against
a result document. Each check names its figure, so a miss is explained."""

TARGETS = [
    # (part, id, description, how to read the figure, limit, "max" or "min")
    ("fetch", "fetch_over_floor", "fetch within 1.3x the plain download floor", "x", 1.3, "max"),
    ("fetch", "fetch_over_peer", "fetch faster than simple-salesforce query_all", "x", 1.0,
     "below"),
    ("fetch", "fetch_memory", "fetch peak memory under 150 MB", "MB", 150, "below"),
    ("import", "import_cold", "cold import within 30 s", "s", 30, "max"),
    ("import", "import_vs_naive", "import at least 10x faster than the naive importer", "x",
     10, "min"),
    ("import", "import_unchanged", "unchanged re-import within 5 s", "s", 5, "max"),
    ("import", "import_memory", "import peak memory under 300 MB", "MB", 300, "below"),
    ("finder", "finder_p95", "finder mix p95 within 50 ms on PostgreSQL", "ms", 50, "max"),
    ("finder", "finder_over_trivial", "finder mix p95 within 5x the trivial view", "x", 5, "max"),
]


def _figure(document, target_id, size):
    fetch = document["fetch"].get(size) or {}
    imported = document["import"].get(size) or {}
    finder = (document["finder"].get(size) or {}).get("postgresql") or {}
    mix = finder.get("mix_c1") or {}
    if target_id.startswith("finder") and (mix.get("failures") or 0) > 0:
        return None  # requests failed: the latency of the rest proves nothing
    figures = {
        "fetch_over_floor": (fetch.get("ratios") or {}).get("ours_over_floor"),
        "fetch_over_peer": (fetch.get("ratios") or {}).get("ours_over_peer"),
        "fetch_memory": (fetch.get("ours") or {}).get("peak_rss_mb"),
        "import_cold": (imported.get("cold") or {}).get("seconds"),
        "import_vs_naive": (imported.get("ratios") or {}).get("naive_over_ours_cold"),
        "import_unchanged": (imported.get("unchanged") or {}).get("seconds"),
        "import_memory": imported.get("peak_rss_mb"),
        "finder_p95": mix.get("p95_ms"),
        "finder_over_trivial": finder.get("p95_over_trivial_c1"),
    }
    return figures[target_id]


def _met(figure, limit, sense):
    if figure is None:
        return None
    if sense == "max":
        return figure <= limit
    if sense == "below":
        return figure < limit
    return figure >= limit


def check(document):
    """[{size, part, id, target, figure, unit, met}] for every size measured;
    met is None when the figure is missing (the part was not run or failed)."""
    sizes = sorted(
        {int(size) for part in ("fetch", "import", "finder") for size in document[part]}
    )
    results = []
    for size in sizes:
        for part, target_id, description, unit, limit, sense in TARGETS:
            if part not in document["settings"]["parts"]:
                continue
            figure = _figure(document, target_id, str(size))
            results.append({
                "size": size,
                "part": part,
                "id": target_id,
                "target": description,
                "figure": figure,
                "unit": unit,
                "met": _met(figure, limit, sense),
            })
    return results
