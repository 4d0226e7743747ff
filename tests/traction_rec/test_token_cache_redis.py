"""The token is shared through Redis, as the web and worker processes share it."""

import random
import uuid

import pytest
import responses

from tests.conftest import redis_reachable
from traction_rec import keys
from traction_rec.client import TOKEN_CACHE_SECONDS, TractionRecClient

REDIS_URL = "redis://127.0.0.1:6379/1"
LOGIN = "https://login.salesforce.com"
HOST = "https://ymca.my.salesforce.com"

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_caches():
    if not redis_reachable(REDIS_URL):
        pytest.skip(f"needs Redis at {REDIS_URL}; none answered")
    from django_redis.cache import RedisCache

    prefix = f"test-client-{uuid.uuid4().hex[:8]}"
    # Two cache objects with their own connections: two processes' views.
    first = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    second = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    yield first, second
    first.delete_pattern("*")


def make_client(key_pair, cache):
    return TractionRecClient(
        consumer_key="3MVG9-consumer",
        login_user="integration@ymca.org",
        login_url=LOGIN,
        audience=LOGIN,
        private_key=keys.load_private_key(key_pair[0]).key,
        cache=cache,
        sleep=lambda seconds: None,
        rng=random.Random(1),
    )


def test_a_token_fetched_by_one_process_is_used_by_another(key_pair, redis_caches):
    web_cache, worker_cache = redis_caches

    with responses.RequestsMock() as mocked:
        mocked.post(
            LOGIN + "/services/oauth2/token",
            json={"access_token": "00D-shared", "instance_url": HOST},
        )
        web = make_client(key_pair, web_cache)
        web.token()
        worker_token = make_client(key_pair, worker_cache).token()

        assert len(mocked.calls) == 1

    assert worker_token.access_token == "00D-shared"
    assert worker_token.instance_url == HOST
    ttl = worker_cache.ttl(web.cache_key)
    assert TOKEN_CACHE_SECONDS - 5 <= ttl <= TOKEN_CACHE_SECONDS
