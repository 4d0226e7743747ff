"""Search result caching, invalidated by every import.

Cached entries are keyed under a version number; an import bumps the version,
so every earlier entry is unreachable at once, on every process that shares
the cache, without scanning keys.
"""

from django.core.cache import cache

VERSION_KEY = "activity_finder:version"


def version():
    return cache.get_or_set(VERSION_KEY, 1, timeout=None)


def invalidate():
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def key(name):
    return f"activity_finder:v{version()}:{name}"
