from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """pgvector's `vector` type, needed by the embeddings of the feedback app."""

    initial = True
    dependencies: list = []
    operations = [VectorExtension()]
