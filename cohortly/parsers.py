import codecs
from decimal import Decimal

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import get_encoding
from rest_framework.utils import json

from cohortly.models import is_plain_decimal


def _json_fraction(text: str) -> Decimal | str:
    """A JSON number with a fraction or an exponent, as it was written: a Decimal
    holding it exactly when it is plain ("8.5"), else its text ("1e2"), which
    every number field refuses as it refuses the same in quotes. Read as a float
    (Python's default), 9.999999999999999999 became a full mark of 10.00 out of
    10, and 1e2 a price of 100.00."""
    return Decimal(text) if is_plain_decimal(text) else text


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with numbers read as they were written (_json_fraction),
    and a body nested deeper than Python's recursion limit (a 2 KB `[[[[…]]]]`)
    refused as the malformed JSON it is for us (400), where DRF's let the
    RecursionError through as a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            decoded = codecs.getreader(encoding)(stream)
            parse_constant = json.strict_constant if self.strict else None
            return json.load(decoded, parse_constant=parse_constant, parse_float=_json_fraction)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
