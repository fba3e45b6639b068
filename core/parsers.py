"""The JSON parser of every DRF view: the body limits and strict JSON of core/json_body.py (413, 400), and no text
PostgreSQL would refuse (NUL, lone surrogates) anywhere in the body, keys included."""

from rest_framework import parsers

from core.validation import json_loads, json_value_problem


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # Imported here: core.errors imports DRF's views, whose settings import this module.
        from core.errors import ApplicationError
        from core.json_body import malformed, read_limited

        request = (parser_context or {}).get("request")
        body = read_limited(stream, request.META if request is not None else {})
        try:
            data = json_loads(body)
        except ValueError as exc:
            raise malformed(str(exc)) from exc
        problem = json_value_problem(data)
        if problem:
            raise ApplicationError(f"The body cannot be stored: {problem[0].lower()}{problem[1:]}", code="invalid")
        return data
