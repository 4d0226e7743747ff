"""Search result caching, invalidated by every import.

Cached entries are keyed under a version number; an import bumps the version,
so every earlier entry is unreachable at once, on every process that shares
the cache, without scanning keys.

Each process also keeps the finder's in-memory index and catalogue, stamped
with stamp(): the version plus a generation token drawn when the version is
first set, so a cache that was cleared or lost its keys (a restarted Redis, a
test's fresh cache) never matches an index built before, even though its
version starts again at 1.
"""

import uuid

from django.core.cache import cache

VERSION_KEY = "activity_finder:version"
GENERATION_KEY = "activity_finder:generation"
# A cache that keeps nothing (the dummy backend) has no shared stamp; the
# process-local index then lives until its maximum age.
NO_SHARED_CACHE = "no-shared-cache"


def version():
    return cache.get_or_set(VERSION_KEY, 1, timeout=None)


def invalidate():
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def key(name):
    return f"activity_finder:v{version()}:{name}"


def stamp():
    """(generation, version): what a process-local index must match to be used."""
    found = cache.get_many([VERSION_KEY, GENERATION_KEY])
    if VERSION_KEY in found and GENERATION_KEY in found:
        return found[GENERATION_KEY], found[VERSION_KEY]
    cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    current = version()
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        return NO_SHARED_CACHE, current
    return generation, current
