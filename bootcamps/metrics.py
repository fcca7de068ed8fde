"""Bootcamp numbers for /metrics, read when Prometheus scrapes (cohortly.metrics)."""

from prometheus_client.core import GaugeMetricFamily

from bootcamps.models import Bootcamp
from bootcamps.selectors import bootcamp_annotate_seats


def seats_left_collector():
    """Seats left in every published bootcamp: counted, like everywhere else."""
    family = GaugeMetricFamily(
        "cohortly_bootcamp_seats_left",
        "Seats left per published bootcamp.",
        labels=["bootcamp_id", "bootcamp"],
    )
    published = Bootcamp.objects.filter(status=Bootcamp.Status.PUBLISHED).order_by("pk")
    for pk, title, left in bootcamp_annotate_seats(published).values_list("pk", "title", "seats_left"):
        family.add_metric([str(pk), title], left)
    yield family
