"""The "promote to dataset" action, added to the review queue and clusters admins of the feedback app."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse

from examples_lib.models import Dataset
from examples_lib.services.examples import examples_promote
from feedback.models import Cluster, Interaction


@admin.action(description="Promote selected to a golden dataset")
def promote_to_dataset(modeladmin, request, queryset):
    if not request.user.has_perm("examples_lib.add_example"):
        modeladmin.message_user(request, "You may not add examples to golden datasets.", messages.ERROR)
        return None
    if issubclass(queryset.model, Cluster):
        interactions = Interaction.objects.filter(cluster__in=queryset)
    else:
        interactions = Interaction.objects.filter(pk__in=queryset.values("pk"))
    datasets = Dataset.objects.filter(project__in=interactions.values("project")).select_related("project")
    if request.POST.get("apply"):
        dataset = datasets.filter(pk=request.POST.get("dataset")).first()
        if dataset is None:
            modeladmin.message_user(request, "Pick a dataset of the selected items' project.", messages.ERROR)
            return None
        result = examples_promote(dataset=dataset, interactions=interactions)
        others = interactions.exclude(project=dataset.project).count()
        summary = (
            f"{len(result.added)} added to '{dataset.name}', {len(result.updated)} updated, "
            f"{len(result.duplicates)} duplicate(s), {len(result.refused)} refused"
        )
        modeladmin.message_user(request, summary + ".", messages.SUCCESS if result.added else messages.WARNING)
        for item in result.refused[:20]:
            modeladmin.message_user(request, f"{item['interaction_id']}: {item['reason']}", messages.WARNING)
        for item in result.near_duplicates[:20]:
            modeladmin.message_user(
                request,
                f"{item['id']} is a near duplicate of {item['similar_to']} ({item['similarity']}).",
                messages.INFO,
            )
        if others:
            modeladmin.message_user(request, f"{others} item(s) of other projects were skipped.", messages.WARNING)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Promote to a golden dataset",
        "opts": modeladmin.model._meta,
        "objects": queryset[:20],
        "ids": [str(pk) for pk in queryset.values_list("pk", flat=True)],
        "interaction_count": interactions.count(),
        "datasets": datasets,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "changelist_url": reverse(f"admin:{modeladmin.opts.app_label}_{modeladmin.opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "admin/examples_lib/promote.html", context)


def _add_promote_action() -> None:
    """Append the action to the review queue and clusters admins, once they exist (feedback never imports us)."""
    from feedback.admin import clusters, review_queue

    for module, name in ((review_queue, "ReviewQueueAdmin"), (clusters, "ClusterAdmin")):
        model_admin = getattr(module, name, None)
        if model_admin is not None and promote_to_dataset not in (model_admin.actions or []):
            model_admin.actions = [*(model_admin.actions or []), promote_to_dataset]


_add_promote_action()
