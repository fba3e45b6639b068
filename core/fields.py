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
