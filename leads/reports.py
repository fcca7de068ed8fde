"""Dashboard figures: a handful of aggregate queries over a scoped queryset.

Every function takes the queryset the user may see (leads.selectors.lead_list_for)
already limited to the period, and answers with GROUP BY queries: the number
of queries doesn't grow with the number of leads.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cohortly.dates import day_end, day_start
from leads.models import Lead

Status = Lead.Status

CUSTOM = "custom"
DEFAULT_PERIOD = "30d"
_PERIOD_DAYS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
PERIOD_CHOICES = [
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("365d", "Last 12 months"),
    ("all", "All time"),
    (CUSTOM, "Custom dates"),
]
FUNNEL_STAGES = [Status.NEW, Status.CONTACTED, Status.QUALIFIED, Status.CONVERTED]


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: datetime | None  # inclusive
    end: datetime | None  # exclusive

    @property
    def last_day(self) -> date | None:
        """The period's last (included) local day."""
        if self.end is None:  # all time, or a custom period up to the last date there is
            return None if self.start is None else date.max
        return timezone.localtime(self.end - timedelta(microseconds=1)).date()

    def apply(self, queryset: QuerySet) -> QuerySet:
        if self.start is not None:
            queryset = queryset.filter(created_at__gte=self.start)
        if self.end is not None:
            queryset = queryset.filter(created_at__lt=self.end)
        return queryset


def period_for(key: str, *, start: date | None = None, end: date | None = None, today=None) -> Period:
    """The period `key` in the current time zone; days are whole local days."""
    today = today or timezone.localdate()
    labels = dict(PERIOD_CHOICES)
    if key in _PERIOD_DAYS:
        first = today - timedelta(days=_PERIOD_DAYS[key] - 1)
        return Period(key, labels[key], day_start(first), day_end(today))
    if key == CUSTOM and start:
        last = end or today
        label = f"{start.day} {start:%b %Y} – {last.day} {last:%b %Y}"
        return Period(key, label, day_start(start), day_end(last))
    return Period("all", labels["all"], None, None)


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _with_bars(rows: list[dict], key: str) -> list[dict]:
    """Adds `bar` (0-100) to each row: its share of the largest `key`."""
    top = max((row[key] or 0 for row in rows), default=0)
    for row in rows:
        row["bar"] = round(100 * (row[key] or 0) / top, 1) if top else 0
    return rows


def funnel(queryset: QuerySet) -> dict:
    """Leads by current status, and how many reached each stage (are at it or
    past it; lost leads are counted beside the funnel, not in it)."""
    counts = queryset.order_by().aggregate(
        total=Count("id"), **{s.lower(): Count("id", filter=Q(status=s)) for s in Status.values}
    )
    total = counts["total"]
    stages = []
    for index, status in enumerate(FUNNEL_STAGES):
        reached = sum(counts[s.lower()] for s in FUNNEL_STAGES[index:])
        stages.append(
            {
                "status": status.value,
                "label": status.label,
                "count": counts[status.lower()],
                "reached": reached,
                "reached_rate": _rate(reached, total),
            }
        )
    _with_bars(stages, "reached")
    lost = counts[Status.LOST.lower()]
    converted = counts[Status.CONVERTED.lower()]
    return {
        "total": total,
        "stages": stages,
        "lost": lost,
        "lost_rate": _rate(lost, total),
        "lost_bar": round(100 * lost / total, 1) if total else 0,
        "converted": converted,
        "conversion_rate": _rate(converted, total),
        "open": sum(counts[s.lower()] for s in Lead.OPEN_STATUSES),
    }


def _conversion_rows(queryset: QuerySet, *fields: str) -> list[dict]:
    return list(
        queryset.order_by()
        .values(*fields)
        .annotate(
            total=Count("id"),
            converted=Count("id", filter=Q(status=Status.CONVERTED)),
            lost=Count("id", filter=Q(status=Status.LOST)),
        )
    )


def conversion_by_source(queryset: QuerySet) -> list[dict]:
    """Every source (zeros included), best conversion rate first."""
    found = {row["source"]: row for row in _conversion_rows(queryset, "source")}
    rows = []
    for value, label in Lead.Source.choices:
        row = found.get(value, {"total": 0, "converted": 0, "lost": 0})
        rows.append(
            {
                "key": value,
                "label": label,
                "total": row["total"],
                "converted": row["converted"],
                "lost": row["lost"],
                "rate": _rate(row["converted"], row["total"]),
            }
        )
    rows.sort(key=lambda r: (-(r["rate"] or -1), -r["total"], r["label"]))
    return _with_bars(rows, "rate")


def conversion_by_bootcamp(queryset: QuerySet) -> list[dict]:
    rows = [
        {
            "key": row["bootcamp_id"],
            "label": row["bootcamp__title"] or "No bootcamp chosen",
            "total": row["total"],
            "converted": row["converted"],
            "lost": row["lost"],
            "rate": _rate(row["converted"], row["total"]),
        }
        for row in _conversion_rows(queryset, "bootcamp_id", "bootcamp__title")
    ]
    rows.sort(key=lambda r: (-r["total"], r["label"]))
    return _with_bars(rows, "rate")


def leads_per_owner(queryset: QuerySet, *, now=None) -> list[dict]:
    now = now or timezone.now()
    open_q = Q(status__in=Lead.OPEN_STATUSES)
    rows = (
        queryset.order_by()
        .values("owner_id", "owner__full_name", "owner__email")
        .annotate(
            total=Count("id"),
            open=Count("id", filter=open_q),
            overdue=Count("id", filter=open_q & Q(next_follow_up_at__lt=now)),
            converted=Count("id", filter=Q(status=Status.CONVERTED)),
        )
    )
    result = [
        {
            "key": row["owner_id"],
            "label": (row["owner__full_name"] or row["owner__email"]) if row["owner_id"] else "Unassigned",
            "total": row["total"],
            "open": row["open"],
            "overdue": row["overdue"],
            "converted": row["converted"],
            "rate": _rate(row["converted"], row["total"]),
        }
        for row in rows
    ]
    result.sort(key=lambda r: (r["key"] is None, -r["total"], r["label"]))
    return _with_bars(result, "total")


def dashboard(queryset: QuerySet, period: Period) -> dict:
    """Everything the dashboard shows for `period`, from `queryset`'s scope."""
    leads = period.apply(queryset)
    return {
        "period": period,
        "funnel": funnel(leads),
        "by_source": conversion_by_source(leads),
        "by_bootcamp": conversion_by_bootcamp(leads),
        "per_owner": leads_per_owner(leads),
    }
