"""CSV export of leads, streamed row by row (the API and the sales pages)."""

import csv
import itertools
import re
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from cohortly.spreadsheets import SPREADSHEET_BOM, safe_cell
from leads.models import Lead

COLUMNS = [
    "id",
    "full_name",
    "email",
    "phone",
    "source",
    "status",
    "bootcamp",
    "owner",
    "next_follow_up_at",
    "created_at",
    "utm_source",
    "utm_medium",
    "utm_campaign",
]


def _when(value, tz=None) -> str:
    return timezone.localtime(value, tz).isoformat(timespec="seconds") if value else ""


def lead_csv_row(lead: Lead, tz=None) -> list[str]:
    """One lead's cells; its times in `tz` (default: the current time zone)."""
    return [
        safe_cell(value)
        for value in (
            lead.pk,
            lead.full_name,
            lead.email,
            lead.phone,
            lead.source,
            lead.status,
            lead.bootcamp.title if lead.bootcamp_id else "",
            lead.owner.full_name if lead.owner_id else "",
            _when(lead.next_follow_up_at, tz),
            _when(lead.created_at, tz),
            lead.utm_source,
            lead.utm_medium,
            lead.utm_campaign,
        )
    ]


class _Echo:
    def write(self, value):
        return value


def lead_csv_rows(queryset: QuerySet[Lead], tz=None) -> Iterator[str]:
    """The header, then one CSV line per lead (in the queryset's order), times
    in `tz` (default: the current time zone)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    leads: Iterable[Lead] = queryset.select_related("owner", "bootcamp").iterator(chunk_size=2000)
    for lead in leads:
        yield writer.writerow(lead_csv_row(lead, tz))


def lead_csv_response(
    queryset: QuerySet[Lead], *, filename: str = "leads.csv", for_spreadsheets: bool = False
) -> StreamingHttpResponse:
    """Stream `queryset` (already scoped and filtered by the caller) as a CSV
    download named `filename`, its times in the time zone current now: the rows
    are written after the view returns, when a page's time zone (the sales
    pages' user's) is no longer active. `for_spreadsheets` (the pages' and the
    admin's downloads) starts it with SPREADSHEET_BOM."""
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "leads.csv"
    rows = lead_csv_rows(queryset, timezone.get_current_timezone())
    if for_spreadsheets:
        rows = itertools.chain([SPREADSHEET_BOM], rows)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
