"""Path converters of the API's URLs, so that an id no object could have is a 404 before any view runs.

Registered once, by core's AppConfig, before any URL configuration is imported: `<key:...>` is a client's id
(anything but '/' and NUL, at most 255 characters, as capture accepts), `<ref:...>` a name, tag or version ref
(a slug of at most 100 ASCII characters: `²` is a digit to str.isdigit() but no version number).
"""

from django.urls import register_converter


class KeyConverter:
    regex = "[^/\x00]{1,255}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class RefConverter(KeyConverter):
    regex = "[-a-zA-Z0-9_]{1,100}"


def register() -> None:
    register_converter(KeyConverter, "key")
    register_converter(RefConverter, "ref")
