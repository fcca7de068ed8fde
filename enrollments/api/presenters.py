"""Enrollment rows as the API renders them (EnrollmentSerializer's exact output,
held to it by test_presenters), built directly for the busy list endpoint."""

from cohortly.presenters import date_str, datetime_str


def enrollment_row_json(row: dict, tz=None) -> dict:
    """`row` from enrollments.selectors.enrollment_rows; `tz` as for datetime_str."""
    return {
        "id": row["id"],
        "student": {
            "id": str(row["student__id"]),
            "full_name": row["student__full_name"],
            "email": row["student__email"],
        },
        "bootcamp": {
            "id": row["bootcamp__id"],
            "title": row["bootcamp__title"],
            "slug": row["bootcamp__slug"],
            "start_date": date_str(row["bootcamp__start_date"]),
            "end_date": date_str(row["bootcamp__end_date"]),
            "status": row["bootcamp__status"],
        },
        "status": row["status"],
        "waitlist_position": row["waitlist_position"],
        "enrolled_at": datetime_str(row["enrolled_at"], tz),
        "updated_at": datetime_str(row["updated_at"], tz),
    }
