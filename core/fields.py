"""DRF fields with the limits of core.validation, for the API's serializers."""

from datetime import UTC

from rest_framework import serializers

from core.validation import datetime_problem


class DateTimeField(serializers.DateTimeField):
    """An ISO 8601 time within the range Python and PostgreSQL share (core.validation), returned in UTC."""

    def get_value(self, dictionary):
        # DRF takes `?until=` in a query string as absent; it is no time, so it is refused like any other.
        value = super().get_value(dictionary)
        if value is serializers.empty and dictionary.get(self.field_name) == "":
            return ""
        return value

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
