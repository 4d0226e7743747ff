"""Medians and percentiles, written out so the method is plain to read."""

import math


def median(values):
    ordered = sorted(values)
    if not ordered:
        raise ValueError("A median needs at least one value.")
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values, share):
    """The nearest-rank percentile: the smallest value with at least `share`
    (0-100) percent of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("A percentile needs at least one value.")
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(ours, theirs):
    if not theirs:
        return None
    return round(ours / theirs, 3)
