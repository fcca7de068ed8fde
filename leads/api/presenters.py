"""Lead rows as the API renders them: LeadSerializer's exact output (held to it
by test_presenters), built directly for the busy list endpoint."""

from cohortly.presenters import date_str, datetime_str
from leads.models import Lead


def lead_row_json(row: dict, students: dict, enrollments: dict, tz=None) -> dict:
    """`row` from leads.selectors.lead_rows; the dicts from lead_conversions;
    `tz` as for datetime_str."""
    student_id, enrollment_id = row["converted_student_id"], row["converted_enrollment_id"]
    student = students.get(student_id) if student_id else None
    return {
        "id": row["id"],
        "full_name": row["full_name"],
        "email": row["email"],
        "phone": row["phone"],
        "source": row["source"],
        "status": row["status"],
        "is_open": row["status"] in Lead.OPEN_STATUSES,
        "lost_reason": row["lost_reason"],
        "message": row["message"],
        "utm_source": row["utm_source"],
        "utm_medium": row["utm_medium"],
        "utm_campaign": row["utm_campaign"],
        "bootcamp": None
        if row["bootcamp__id"] is None
        else {
            "id": row["bootcamp__id"],
            "title": row["bootcamp__title"],
            "slug": row["bootcamp__slug"],
            "start_date": date_str(row["bootcamp__start_date"]),
        },
        "owner": None
        if row["owner__id"] is None
        else {
            "id": str(row["owner__id"]),
            "full_name": row["owner__full_name"],
            "email": row["owner__email"],
        },
        "next_follow_up_at": datetime_str(row["next_follow_up_at"], tz),
        "converted_student": None
        if student is None
        else {"id": str(student_id), "full_name": student[0], "email": student[1]},
        "converted_enrollment": None
        if enrollment_id is None
        else {"id": enrollment_id, "status": enrollments[enrollment_id]},
        "converted_at": datetime_str(row["converted_at"], tz),
        "created_at": datetime_str(row["created_at"], tz),
        "updated_at": datetime_str(row["updated_at"], tz),
    }
