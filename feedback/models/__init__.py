from feedback.models.clusters import Cluster, ClusteringRun, Embedding
from feedback.models.interactions import Feedback, Interaction
from feedback.models.projects import ApiKey, Project, ScoreThreshold
from feedback.models.reviews import ClaimEvent, ErrorCategory, Review, ReviewItem

__all__ = [
    "ApiKey",
    "ClaimEvent",
    "Cluster",
    "ClusteringRun",
    "Embedding",
    "ErrorCategory",
    "Feedback",
    "Interaction",
    "Project",
    "Review",
    "ReviewItem",
    "ScoreThreshold",
]
