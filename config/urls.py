from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[], permission_classes=[]),
        name="docs",
    ),
    path("api/v1/", include("feedback.urls")),
    path("api/v1/", include("examples_lib.urls")),
    path("api/v1/", include("evaluation.urls")),
    path("api/v1/", include("monitoring.urls")),
    path("", include("feedback.apis.connect_urls")),  # OTLP and Langfuse paths, as those SDKs spell them
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
