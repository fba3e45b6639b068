from feedback.models.agreement import ReviewPolicy
from feedback.models.clusters import Cluster, ClusteringRun, Embedding
from feedback.models.interactions import Feedback, Interaction
from feedback.models.monitoring import Alert, AlertRule, FeedbackRollup, RollupCursor, WebhookDelivery
from feedback.models.projects import ApiKey, Project, ScoreThreshold
from feedback.models.reviews import ClaimEvent, ErrorCategory, Review, ReviewItem

__all__ = [
    "Alert",
    "AlertRule",
    "ApiKey",
    "ClaimEvent",
    "Cluster",
    "ClusteringRun",
    "Embedding",
    "ErrorCategory",
    "Feedback",
    "FeedbackRollup",
    "Interaction",
    "Project",
    "Review",
    "RollupCursor",
    "ReviewItem",
    "ReviewPolicy",
    "ScoreThreshold",
    "WebhookDelivery",
]
