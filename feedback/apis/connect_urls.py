"""Routes at the site root, where OTLP exporters and the Langfuse SDK look for them (API.md, Connect)."""

from feedback.apis import langfuse, otlp

urlpatterns = [*otlp.urlpatterns, *langfuse.urlpatterns]
