"""Factories for rows that tests need; they write through the ORM, not through the services under test."""

import hashlib

import factory

from feedback.models import Feedback, Interaction, Project


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"chat-{n}")
    input = factory.Sequence(lambda n: [{"role": "user", "content": f"Question number {n}?"}])
    output = "Please contact support."
    model = "gpt-4o-mini"
    prompt_version = "v1"
    content_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.external_id.encode()).hexdigest())


class FailureFactory(InteractionFactory):
    """An interaction already marked as a failure (one negative feedback)."""

    is_failure = True
    negative_count = 1
    feedback_count = 1


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    interaction = factory.SubFactory(InteractionFactory)
    project = factory.LazyAttribute(lambda o: o.interaction.project)
    external_id = factory.Sequence(lambda n: f"fb-{n}")
    name = "thumbs"
    data_type = Feedback.DataType.BOOLEAN
    value_number = 0.0
    is_negative = True
    content_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.external_id.encode()).hexdigest())
