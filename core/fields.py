"""DRF fields with the limits of core.validation, for the API's serializers."""

from datetime import UTC

from rest_framework import serializers

from core.validation import datetime_problem


class DateTimeField(serializers.DateTimeField):
    """An ISO 8601 time within the range Python and PostgreSQL share (core.validation), returned in UTC."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        problem = datetime_problem(parsed)
        if problem:
            raise serializers.ValidationError(problem)
        return parsed.astimezone(UTC)


class _StrictText:
    """A string and nothing else: DRF's own text fields take 0 or 1.5 as "0" and "1.5", which the schema (and a
    client generator reading it) says they refuse."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CharField(_StrictText, serializers.CharField):
    pass


class SlugField(_StrictText, serializers.SlugField):
    pass


class FloatField(serializers.FloatField):
    """A JSON number and nothing else (DRF's takes "0.5" and true) - for bodies; query strings are text."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)
