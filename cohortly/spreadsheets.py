"""What goes into a CSV file that people open in a spreadsheet program."""

#: Written first in the CSV downloads of the pages and the admin, which people
#: open in a spreadsheet: without it Excel reads UTF-8 as the system's code page
#: ("Zoë" as "ZoÃ«"). The API's CSV has none: programs read it.
SPREADSHEET_BOM = "\ufeff"

#: A spreadsheet treats a cell starting with one of these as a formula
#: (CSV injection); such cells get a leading apostrophe.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell's text, defused against CSV formula injection; None is empty."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text
