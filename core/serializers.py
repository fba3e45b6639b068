"""A base for the serializers that read query strings."""

from rest_framework import serializers


class QuerySerializer(serializers.Serializer):
    """DRF takes `?since=` or `?model=` (an empty value) as if the parameter were absent; the schema says an empty
    value is no date and no model, so it is refused (400), except for fields that allow a blank string."""

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            empty = {
                name: ["Must not be empty; leave the parameter out instead."]
                for name, field in self.fields.items()
                if data.get(name) == "" and not getattr(field, "allow_blank", False)
            }
            if empty:
                raise serializers.ValidationError(empty)
        return super().to_internal_value(data)
