from feedback.models.agreement import AdjudicationItem, AgreementReport, ReviewPolicy
from feedback.models.clusters import Cluster, ClusteringRun, Embedding
from feedback.models.connect import FeedbackToken, PendingScore
from feedback.models.interactions import Feedback, Interaction
from feedback.models.projects import ApiKey, Project, ProjectMembership, ScoreThreshold
from feedback.models.reviews import ClaimEvent, ErrorCategory, Review, ReviewItem

__all__ = [
    "AdjudicationItem",
    "AgreementReport",
    "ApiKey",
    "ClaimEvent",
    "Cluster",
    "ClusteringRun",
    "Embedding",
    "ErrorCategory",
    "Feedback",
    "FeedbackToken",
    "Interaction",
    "PendingScore",
    "Project",
    "ProjectMembership",
    "Review",
    "ReviewItem",
    "ReviewPolicy",
    "ScoreThreshold",
]
