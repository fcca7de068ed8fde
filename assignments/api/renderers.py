import csv
import io

from rest_framework import renderers

from cohortly.spreadsheets import safe_cell


def _status(cell: dict) -> str:
    return f"{cell['status']}, late" if cell["is_late"] else cell["status"]


def gradebook_csv_rows(data: dict):
    """The gradebook's JSON body as table rows: a student per row, and per
    assignment a score column and a status column."""
    header = ["Student", "Email", "Enrollment"]
    for assignment in data["assignments"]:
        title = safe_cell(assignment["title"])
        header += [f"{title} (score /{assignment['max_score']})", f"{title} (status)"]
    header += [
        "Average %",
        "Points",
        "Points possible",
        "Points %",
        "Graded",
        "Awaiting grade",
        "Awaiting revision",
        "Missing",
    ]
    yield header
    for row in data["students"]:
        line = [
            safe_cell(row["student"]["full_name"]),
            safe_cell(row["student"]["email"]),
            row["enrollment_status"],
        ]
        for cell in row["grades"]:
            line += [cell["score"] or "", _status(cell)]
        line += [
            row["average"] or "",
            row["points_earned"],
            row["points_possible"],
            row["points_percentage"] or "",
            row["graded_count"],
            row["submitted_count"],
            row["returned_count"],
            row["missing_count"],
        ]
        yield line


def gradebook_download_headers(bootcamp) -> dict[str, str]:
    """The headers of a gradebook CSV, in the API and the back office alike."""
    return {
        "Content-Disposition": f'attachment; filename="gradebook-{bootcamp.slug or bootcamp.pk}.csv"',
        # Grades and emails: kept by no cache, as the leads export.
        "Cache-Control": "no-store",
    }


class GradebookCSVRenderer(renderers.BaseRenderer):
    """`?format=csv`: the gradebook as a CSV download."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows(gradebook_csv_rows(data))
        return buffer.getvalue().encode(self.charset)
