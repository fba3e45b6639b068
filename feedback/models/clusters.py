from django.db import models
from pgvector.django import VectorField

EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2; another embedder with other dimensions needs a migration.


class Embedding(models.Model):
    """The embedding of one interaction by one embedder, with the text that was embedded."""

    # No indexes of their own: uniq_embedding_per_embedder and embedding_project lead with them, and each index is
    # written while the worker's model encodes the next chunk.
    interaction = models.ForeignKey(
        "feedback.Interaction", on_delete=models.CASCADE, related_name="embeddings", db_index=False
    )
    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="+", db_index=False)
    embedder = models.CharField(max_length=200)
    text = models.TextField()
    vector = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["interaction", "embedder"], name="uniq_embedding_per_embedder")]
        # No global vector index: a project with enough embeddings gets a partial HNSW index of its own
        # (services/similarity_index.py), so that an insert walks its own project's graph only.
        indexes = [models.Index(fields=["project", "embedder"], name="embedding_project")]


class Cluster(models.Model):
    """A recurring error pattern. Its id survives reclustering while the pattern does."""

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="clusters")
    label = models.CharField(max_length=300)
    keywords = models.JSONField(default=list)
    size = models.IntegerField(default=0)
    centroid = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True)
    join_threshold = models.FloatField(default=0.0, help_text="Cosine similarity a new failure needs to join.")
    representative_ids = models.JSONField(default=list, help_text="Interaction ids nearest to the centroid.")
    first_seen = models.DateTimeField(null=True)
    last_seen = models.DateTimeField(null=True)
    size_previous_run = models.IntegerField(default=0)
    members_last_24h = models.IntegerField(default=0, help_text="Members that occurred in the last 24 hours.")
    members_last_7d = models.IntegerField(default=0, help_text="Members that occurred in the last 7 days.")
    embedder = models.CharField(max_length=200, blank=True, help_text="The embedder of the centroid.")
    last_run = models.ForeignKey(
        "feedback.ClusteringRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["project", "is_active", "-size"], name="cluster_active")]

    def __str__(self) -> str:
        return self.label

    @property
    def growth(self) -> int:
        return self.size - self.size_previous_run


class ClusteringRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="clustering_runs")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0 to 1.")
    stage = models.CharField(max_length=50, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="Parameters the algorithm reported.")
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per stage.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Renewed by the worker while it runs; a run silent too long is lost."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one run per project waits or works at a time; a second request reuses it.
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(status__in=["queued", "running"]),
                name="uniq_clustering_run_in_flight",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"
