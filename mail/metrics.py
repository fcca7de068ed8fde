"""Email numbers for /metrics, read from the outbox when Prometheus scrapes: the
outbox sees every send, also those a db_worker on another machine made."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from mail.models import OutboundEmail


def outbox_collector():
    family = GaugeMetricFamily(
        "cohortly_emails",
        "Emails in the outbox by status (sent, delivered, failed, bounced ...).",
        labels=["status"],
    )
    counts = dict(OutboundEmail.objects.values_list("status").annotate(n=Count("id")).order_by())
    for status in OutboundEmail.Status.values:
        family.add_metric([status.lower()], counts.get(status, 0))
    yield family
