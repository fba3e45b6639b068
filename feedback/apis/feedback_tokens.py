"""Presigned feedback tokens (API.md, Connect) and the thumbs snippet that posts through them.

POST /api/v1/feedback/tokens (key with scope `ingest`) makes a token; POST /api/v1/feedback/tokens/{token} takes one
feedback with no key, from the browser: CORS for settings.FEEDBACK_TOKEN_CORS_ORIGINS (a request from any other
origin that declares one is refused, so that another site cannot spend a user's token with a simple form post), and
at most settings.FEEDBACK_TOKEN_RATE_PER_MINUTE posts a minute per IP address and per token (Django's cache: one
per process with the default local-memory cache, shared when CACHES points at Redis).
"""

import time
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache as django_cache
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from core.errors import ApplicationError, error_body
from core.lean_api import LeanApiView
from feedback.apis.capture import ERRORS, single_response
from feedback.apis.capture_serializers import ErrorSerializer, FeedbackWrittenSerializer
from feedback.apis.json_body import read_json_object
from feedback.services.feedback_tokens import feedback_token_create, feedback_token_use, token_hash

SNIPPET = Path(__file__).resolve().parent.parent / "static" / "goldloop" / "thumbs.js"


class TokenInSerializer(serializers.Serializer):
    interaction_id = serializers.CharField(help_text="The interaction the browser may judge.")
    name = serializers.CharField(required=False, default="thumbs", help_text="The feedback name posted.")
    expires_in = serializers.IntegerField(required=False, default=86400, help_text="Seconds; at most 30 days.")
    max_uses = serializers.IntegerField(required=False, default=1, min_value=1, max_value=1000)


class TokenOutSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once; only its hash is kept.")
    url = serializers.URLField(help_text="Where the browser posts, with no key.")
    expires_at = serializers.DateTimeField()
    max_uses = serializers.IntegerField()
    interaction_id = serializers.CharField()
    name = serializers.CharField()


class FeedbackTokenCreateApi(LeanApiView):
    required_scope = "ingest"

    @extend_schema(
        operation_id="feedback_token_create",
        request=TokenInSerializer,
        responses={
            201: TokenOutSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such interaction."),
            **ERRORS,
        },
        summary="A presigned URL through which a browser posts feedback on one interaction, with no API key.",
    )
    def post(self, request):
        body = read_json_object(request)
        token, raw_token = feedback_token_create(
            project_id=request.auth.project_id,
            interaction_external_id=body.get("interaction_id"),
            name=body.get("name", "thumbs"),
            expires_in=body.get("expires_in", 86400),
            max_uses=body.get("max_uses", 1),
        )
        return {
            "token": raw_token,
            "url": request.build_absolute_uri(f"/api/v1/feedback/tokens/{raw_token}"),
            "expires_at": token.expires_at.isoformat().replace("+00:00", "Z"),
            "max_uses": token.max_uses,
            "interaction_id": body["interaction_id"],
            "name": token.name,
        }, 201


def _allowed_origin(request) -> str | None:
    origin = request.META.get("HTTP_ORIGIN")
    allowed = settings.FEEDBACK_TOKEN_CORS_ORIGINS
    if origin and ("*" in allowed or origin in allowed):
        return origin
    return None


def _cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    return response


def _rate_limited(request, token: str) -> int:
    """Seconds to wait when this IP address or this token has posted its share of the current minute, else 0."""
    window = int(time.time() // 60)
    limit = settings.FEEDBACK_TOKEN_RATE_PER_MINUTE
    ip = request.META.get("REMOTE_ADDR", "")
    over = False
    for key in (f"goldloop:fbtoken:ip:{ip}:{window}", f"goldloop:fbtoken:tok:{token_hash(token)[:24]}:{window}"):
        django_cache.add(key, 0, timeout=70)
        try:
            count = django_cache.incr(key)
        except ValueError:  # evicted between add and incr
            count = 1
        over = over or count > limit
    return (60 - int(time.time()) % 60) or 1 if over else 0


class FeedbackTokenUseApi(APIView):
    """No API key: the token is the credential. Answers in the API's error shape, with CORS headers."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="feedback_token_use",
        auth=[],
        request=inline_serializer(
            "TokenFeedbackIn",
            {
                "value": serializers.JSONField(required=False, help_text="'up'/'down' for thumbs, a number, a string."),
                "comment": serializers.CharField(required=False),
                "correction": serializers.JSONField(required=False),
            },
        ),
        responses={
            201: FeedbackWrittenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid feedback (the use is not spent)."),
            403: OpenApiResponse(ErrorSerializer, description="The page's origin is not allowed."),
            404: OpenApiResponse(ErrorSerializer, description="Unknown token."),
            409: OpenApiResponse(ErrorSerializer, description="The token is used up."),
            410: OpenApiResponse(ErrorSerializer, description="The token has expired."),
            429: OpenApiResponse(ErrorSerializer, description="Too many posts; see Retry-After."),
        },
        summary="Post one feedback through a presigned token, from a browser, with no API key.",
    )
    def post(self, request, token):  # documentation only; dispatch answers
        raise NotImplementedError

    def dispatch(self, request, *args, token: str = "", **kwargs):
        origin = _allowed_origin(request)
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204 if origin else 403), origin)
        if request.method != "POST":
            return _cors(JsonResponse(error_body("method_not_allowed", "Use POST."), status=405), origin)
        if request.META.get("HTTP_ORIGIN") and origin is None:
            body = error_body(
                "origin_not_allowed", "This page's origin may not post feedback; add it to FEEDBACK_TOKEN_CORS_ORIGINS."
            )
            return _cors(JsonResponse(body, status=403), None)
        wait = _rate_limited(request, token)
        if wait:
            body = error_body("rate_limited", f"Too many feedback posts; retry in {wait} seconds.")
            return _cors(JsonResponse(body, status=429, headers={"Retry-After": str(wait)}), origin)
        try:
            result = feedback_token_use(raw_token=token, body=read_json_object(request))
        except ApplicationError as exc:
            return _cors(JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status_code), origin)
        body, status = single_response(result)
        return _cors(JsonResponse(body, status=status), origin)


@cache
def _snippet() -> bytes:
    return SNIPPET.read_bytes()


def thumbs_js(request):
    """The dependency-free thumbs snippet (docs/connect.md), loadable from any page."""
    response = HttpResponse(_snippet(), content_type="text/javascript; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=3600"
    return response


urlpatterns = [
    path("feedback/tokens", FeedbackTokenCreateApi.as_view(), name="feedback-token-create"),
    path("feedback/tokens/<str:token>", csrf_exempt(FeedbackTokenUseApi.as_view()), name="feedback-token-use"),
    path("feedback/thumbs.js", thumbs_js, name="feedback-thumbs-js"),
]
