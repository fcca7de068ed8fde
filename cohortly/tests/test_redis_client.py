"""What a worker runs on: the fast Redis reply parser."""


def test_redis_replies_are_parsed_by_hiredis():
    from redis.utils import HIREDIS_AVAILABLE

    assert HIREDIS_AVAILABLE, "hiredis (requirements.txt) is not installed: redis-py falls back to Python"
