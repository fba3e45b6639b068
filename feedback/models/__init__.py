from feedback.models.clusters import Cluster, ClusteringRun, Embedding
from feedback.models.connect import FeedbackToken, PendingScore
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
    "FeedbackToken",
    "FeedbackRollup",
    "Interaction",
    "PendingScore",
    "Project",
    "Review",
    "RollupCursor",
    "ReviewItem",
    "ScoreThreshold",
    "WebhookDelivery",
]
