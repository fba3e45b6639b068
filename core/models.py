from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class RateLimitCount(models.Model):
    """Requests of one rate-limit bucket (an API key) in one window, shared by web processes (core/ratelimit.py)."""

    bucket = models.CharField(max_length=64)
    window_start = models.BigIntegerField(help_text="Unix time at which the window starts.")
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "window_start"], name="uniq_ratelimit_bucket_window")]
