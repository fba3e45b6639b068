"""Cursor pagination with the response shape of API.md: {"results": [...], "next": "<url or null>"}.

Cursors are signed (django.core.signing, salted with the list's ordering): a cursor is only ever one this server
wrote for this kind of list, so its position can go into a query as it is. A forged, edited or foreign cursor is a
400, where DRF's own would filter by whatever text it held (a 500 for `p=abc` on a date ordering).
"""

from base64 import b64decode, b64encode
from urllib import parse

from django.core import signing
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import Cursor
from rest_framework.pagination import CursorPagination as DrfCursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.errors import ApplicationError


class CursorPagination(DrfCursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500
    ordering = ("-occurred_at", "-id")

    def _signer(self) -> signing.Signer:
        ordering = (self.ordering,) if isinstance(self.ordering, str) else self.ordering
        return signing.Signer(salt="core.pagination.cursor:" + ",".join(ordering))

    def encode_cursor(self, cursor: Cursor) -> str:
        tokens = {}
        if cursor.offset:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        encoded = b64encode(parse.urlencode(tokens, doseq=True).encode()).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, self._signer().sign(encoded))

    def decode_cursor(self, request) -> Cursor | None:
        value = request.query_params.get(self.cursor_query_param)
        if value is None:
            return None
        try:
            encoded = self._signer().unsign(value)
        except signing.BadSignature as exc:
            raise ApplicationError(
                "The cursor is not one this list gave out; follow the 'next' link as it is.",
                code="invalid_cursor",
                fields={self.cursor_query_param: ["Invalid cursor."]},
            ) from exc
        tokens = parse.parse_qs(b64decode(encoded).decode(), keep_blank_values=True)
        offset = min(int(tokens.get("o", ["0"])[0]), self.offset_cutoff)
        return Cursor(offset=offset, reverse=tokens.get("r", ["0"])[0] == "1", position=tokens.get("p", [None])[0])

    def get_page_size(self, request) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= self.max_page_size):
            raise ApplicationError(
                f"limit must be a whole number from 1 to {self.max_page_size}.",
                fields={self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]},
            )
        return int(value)

    def get_paginated_response(self, data) -> Response:
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {"results": schema, "next": {"type": "string", "nullable": True, "format": "uri"}},
        }


# --- OpenAPI: the lists are APIViews that paginate by hand, so they name their parameters and envelope here ------
PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor", OpenApiTypes.STR, description="The opaque cursor of a 'next' link; 400 when altered.", required=False
    ),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": CursorPagination.max_page_size},
        description=f"Items per page, 1 to {CursorPagination.max_page_size} (default {CursorPagination.page_size}).",
        required=False,
    ),
]


def page_of(item_serializer: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """The schema of one page: {"results": [item, ...], "next": "<url or null>"}."""
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "results": item_serializer(many=True),
            "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last."),
        },
    )
