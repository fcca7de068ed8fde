"""/metrics on the real server: gunicorn with the project's gunicorn.conf.py and two
workers; the counts of both add up to exactly the requests made."""

import shutil
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from cohortly.tests.live_servers import BASE_DIR, gunicorn, request

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOKEN = "server-metrics-token-42"
COUNT = "cohortly_http_request_duration_seconds_count"
REQUESTS = 200


def health_counts(families) -> float:
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == COUNT and sample.labels["route"].startswith("api/v1/health")
    )


def scrape(base: str) -> float:
    req = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return health_counts(text_string_to_metric_families(response.read().decode()))


def per_worker(directory: Path, tmp_path: Path) -> dict[str, float]:
    """Each worker's own count, read from its own file with prometheus-client."""
    counts = {}
    for path in directory.glob("histogram_*.db"):
        alone = tmp_path / path.stem
        alone.mkdir()
        shutil.copy(path, alone)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(alone))
        counts[path.stem.removeprefix("histogram_")] = health_counts(registry.collect())
    return counts


def test_two_workers_counts_add_up_to_the_requests_made(tmp_path):
    directory = tmp_path / "metrics"
    env = {"METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    with gunicorn(workers=2, env=env, config=str(BASE_DIR / "gunicorn.conf.py")) as base:
        assert request("GET", f"{base}/metrics")[0] == 404  # no token
        before = scrape(base)
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda _: request("GET", f"{base}/api/v1/health")[0], range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        after = scrape(base)
        workers = per_worker(directory, tmp_path)

    assert after - before == REQUESTS
    # Both workers answered some, and /metrics summed their files.
    served = {pid: n for pid, n in workers.items() if n}
    assert len(served) == 2, workers
    assert sum(served.values()) == after
    assert all(n < after for n in served.values())


def test_the_metrics_directory_gunicorn_made_goes_when_it_stops():
    """Without PROMETHEUS_MULTIPROC_DIR each start makes a directory (in /dev/shm
    where there is one); each stop removes it, or every restart left one behind."""
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    before = set(shm.glob("cohortly-metrics-*"))
    with gunicorn(workers=1, config=str(BASE_DIR / "gunicorn.conf.py")) as base:
        assert request("GET", f"{base}/api/v1/health")[0] == 200
        made = set(shm.glob("cohortly-metrics-*")) - before
        assert made, "the server made no metrics directory"
    # Another server starting meanwhile (a second test run) may have made one too,
    # and still run: this server's is one of those made, and it is gone.
    assert any(not path.exists() for path in made), made
