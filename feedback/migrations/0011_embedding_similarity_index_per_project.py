"""Drop the HNSW index over every project's embeddings: each insert walked all projects' vectors.

A project past SIMILARITY_INDEX_MIN_EMBEDDINGS gets a partial index of its own from beat
(feedback/services/similarity_index.py); until then, and below it, the similar endpoint scans the project's
embeddings exactly.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0010_embedding_no_redundant_fk_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="embedding",
            name="embedding_vector_hnsw",
        ),
    ]
