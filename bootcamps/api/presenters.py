"""Bootcamp rows (bootcamps.selectors.bootcamp_values) as the API renders them.

The output is exactly BootcampSerializer's (test_presenters holds them to each
other); building the dicts directly skips DRF's per-field machinery on the
busiest read endpoints.
"""

from django.utils import timezone

from cohortly.presenters import datetime_str, decimal_str


def _people(pairs) -> list[dict]:
    return [{"id": user_id, "full_name": full_name} for user_id, full_name in pairs]


def bootcamp_json(row: dict, details: dict, tz=None) -> dict:
    """`row` from bootcamps.selectors.bootcamp_values, `details` from
    bootcamp_page_details, `tz` as for datetime_str."""
    seats_taken = details["seats_taken"]
    return {
        "id": row["id"],
        "title": row["title"],
        "slug": row["slug"],
        "description": row["description"],
        "start_date": row["start_date"].isoformat(),
        "end_date": row["end_date"].isoformat(),
        "capacity": row["capacity"],
        "price": decimal_str(row["price"]),
        "currency": row["currency"],
        "delivery_format": row["delivery_format"],
        "location": row["location"],
        "status": row["status"],
        "instructors": _people(details["instructors"]),
        "mentors": _people(details["mentors"]),
        "seats_taken": seats_taken,
        "seats_left": max(0, row["capacity"] - seats_taken),
        "created_at": datetime_str(row["created_at"], tz),
        "updated_at": datetime_str(row["updated_at"], tz),
    }


def bootcamps_json(rows: list[dict], details: dict[int, dict]) -> list[dict]:
    tz = timezone.get_current_timezone()
    return [bootcamp_json(row, details[row["id"]], tz) for row in rows]
