import codecs
from decimal import Decimal

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import get_encoding
from rest_framework.utils import json


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a number that has a fraction or an exponent read
    exactly, as a Decimal: read as a float (Python's default), 9.999999999999999999
    became a full mark of 10.00 out of 10 before any field saw it. The number
    fields then refuse what they refuse in quotes (cohortly.serializers). And a
    body nested deeper than Python's recursion limit (a 2 KB `[[[[…]]]]`) is
    refused as the malformed JSON it is for us (400), where DRF's let the
    RecursionError through as a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            decoded = codecs.getreader(encoding)(stream)
            parse_constant = json.strict_constant if self.strict else None
            return json.load(decoded, parse_constant=parse_constant, parse_float=Decimal)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
