import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cockpit caches history reads (trends, evaluation, tide, geofences) for a minute in Redis;
    the database is emptied between tests, so the cache must be too."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
