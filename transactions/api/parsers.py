"""JSON bodies read as the importer reads files: numbers as Decimal, nothing lost."""

import json
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    """2500.10 stays Decimal("2500.10"), not the float 2500.1000000000000227."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            # NaN and Infinity reach the amount's own check and are refused there, by index.
            return json.load(stream, parse_float=Decimal, parse_constant=Decimal)
        except (ValueError, UnicodeDecodeError) as e:
            raise ParseError(f"The body is not valid JSON: {e}") from None
        except RecursionError:
            raise ParseError("The body is not valid JSON: nested too deeply.") from None
