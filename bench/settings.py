"""The project's settings, plus a trivial view and no result cache.

The finder benchmark serves the site through gunicorn with these settings.
The cache is a dummy one so every request does its full work (the worst case,
as just after an import); the finder's own cache only makes repeats cheaper.
"""

from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
