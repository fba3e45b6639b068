"""API routes of the feedback app; each concern keeps its own route list beside its views."""

from feedback.apis import agreement, capture, clusters, feedback_tokens, interactions, reviews

urlpatterns = [
    *capture.urlpatterns,
    *feedback_tokens.urlpatterns,
    *interactions.urlpatterns,
    *reviews.urlpatterns,
    *clusters.urlpatterns,
    *agreement.urlpatterns,
]
