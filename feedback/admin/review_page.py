"""The review page of one queue item, and the claim / next / release endpoints of the queue admin.

These functions are methods of ReviewQueueAdmin (bound there); they translate HTTP to the review services.
"""

import copy
import difflib
import json
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from core.chat import chat_messages
from core.errors import ApplicationError
from feedback.admin.scoping import admin_scope
from feedback.models import ErrorCategory, Interaction, Review
from feedback.selectors.overlap import open_overlap_ids, overlap_state, verdicts, visible_reviews
from feedback.selectors.reviews import review_page
from feedback.services import claims
from feedback.services.reviews import correction_parse, review_create

_TOKENS = re.compile(r"\s+|[^\s]+")


def as_text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def word_diff_html(original: str, corrected: str) -> str:
    """A word-level diff as HTML: removed words in <del>, added words in <ins> (whitespace kept)."""
    a, b = _TOKENS.findall(original), _TOKENS.findall(corrected)
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            parts.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return mark_safe("".join(parts))  # every piece above is escaped


def _filters(request) -> str:
    return request.POST.get("_changelist_filters") or request.GET.get("_changelist_filters", "")


def review_url(model_admin, object_id, request) -> str:
    url = reverse("admin:feedback_reviewitem_review", args=[object_id])
    filters = _filters(request)
    return f"{url}?{urlencode({'_changelist_filters': filters})}" if filters else url


def _changelist_url(request) -> str:
    url = reverse("admin:feedback_reviewitem_changelist")
    filters = _filters(request)
    return f"{url}?{filters}" if filters else url


def _require_review(model_admin, request) -> None:
    if not model_admin.has_review_permission(request):
        raise PermissionDenied


def _queue_queryset(model_admin, request):
    """The queue as the SME filtered it, so that "next" follows their filters."""
    fake = copy.copy(request)
    fake.method = "GET"
    fake.GET = QueryDict(_filters(request), mutable=True)
    for key in ("p", "o", "all", "_changelist_filters"):
        fake.GET.pop(key, None)
    failures_only = fake.GET.get("is_failure__exact") != "0"
    try:
        changelist = model_admin.get_changelist_instance(fake)
    except IncorrectLookupParameters:
        return None, failures_only
    return changelist.get_queryset(fake), failures_only


def _go_next(model_admin, request, *, after: int | None):
    queryset, failures_only = _queue_queryset(model_admin, request)
    item = claims.claim_next(
        user=request.user, queryset=queryset, exclude_ids=[after] if after else [], failures_only=failures_only
    )
    if item is None:
        model_admin.message_user(request, "The queue is empty: nothing left to review here.", messages.INFO)
        return HttpResponseRedirect(_changelist_url(request))
    return HttpResponseRedirect(review_url(model_admin, item.pk, request))


def next_view(self, request):
    """Claim the next free item (POST). `skip` gives back the item the SME leaves without a verdict."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_review(self, request)
    skip = request.POST.get("skip")
    if skip and skip.isdigit():
        claims.release(interaction_id=int(skip), user=request.user)
    return _go_next(self, request, after=int(skip) if skip and skip.isdigit() else None)


def _item_id(model_admin, request, object_id: str) -> int:
    """The id of an item this user may see (their projects' only, feedback/admin/scoping.py), else 404."""
    if not object_id.isdigit() or not admin_scope(Interaction.objects.filter(pk=object_id), request).exists():
        raise Http404("No such item.")
    return int(object_id)


def claim_view(self, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_review(self, request)
    object_id = _item_id(self, request, object_id)
    try:
        claims.claim(interaction_id=object_id, user=request.user)
    except ApplicationError as exc:
        self.message_user(request, exc.message, messages.WARNING)
    return HttpResponseRedirect(review_url(self, object_id, request))


def release_view(self, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_review(self, request)
    object_id = _item_id(self, request, object_id)
    if claims.release(interaction_id=object_id, user=request.user):
        self.message_user(request, "Released: the item is back in the queue.", messages.INFO)
    return HttpResponseRedirect(_changelist_url(request))


def _save(self, request, interaction: Interaction):
    verdict = request.POST.get("verdict", "")
    category_id = request.POST.get("error_category") or None
    category = None
    if category_id:
        category = ErrorCategory.objects.filter(pk=category_id, project_id=interaction.project_id).first()
        if category is None:
            raise ApplicationError("Pick an error category of this project.", fields={"error_category": ["unknown"]})
    correction = None
    if verdict == Review.Verdict.CORRECTED:
        correction = correction_parse(interaction=interaction, text=request.POST.get("correction", ""))
    return review_create(
        interaction=interaction,
        verdict=verdict,
        correction=correction,
        error_category=category,
        notes=request.POST.get("notes", ""),
        reviewer=request.user,
    )


def _waits_for_others(interaction_id: int, user) -> bool:
    """An overlap item the user already judged, still waiting for other SMEs: opening it must not claim it again
    (the claim would keep the next SME from it)."""
    if interaction_id not in open_overlap_ids(interaction_ids=[interaction_id]):
        return False
    return Review.objects.filter(verdicts(), interaction_id=interaction_id, reviewer=user).exists()


def review_view(self, request, object_id):
    interaction_id = _item_id(self, request, object_id)
    if not self.has_view_permission(request):
        raise PermissionDenied
    can_review = self.has_review_permission(request)
    error = None
    if request.method == "POST":
        _require_review(self, request)
        try:
            _save(self, request, Interaction.objects.select_related("project").get(pk=interaction_id))
        except ApplicationError as exc:
            error = exc.message
        else:
            self.message_user(request, "Verdict saved.", messages.SUCCESS)
            if "_next" in request.POST:
                return _go_next(self, request, after=interaction_id)
            return HttpResponseRedirect(review_url(self, interaction_id, request))
    elif can_review and not _waits_for_others(interaction_id, request.user):
        # Opening an item claims it when it is free, so that two SMEs do not work on it at once.
        try:
            claims.claim(interaction_id=interaction_id, user=request.user)
        except ApplicationError:
            pass  # held by someone else: the page says so and the form stays disabled

    data = review_page(interaction_id=interaction_id)
    interaction = data["interaction"]
    overlap = overlap_state(interaction=interaction, reviews=data["reviews"])
    all_reviews = data["reviews"]
    # An SME never sees another's verdict on an overlap item before enough verdicts are in (blind overlap).
    data["reviews"] = visible_reviews(reviews=all_reviews, state=overlap, user=request.user)
    now = timezone.now()
    held_by_other = (
        interaction.claimed_by_id not in (None, request.user.pk)
        and interaction.claim_expires_at
        and interaction.claim_expires_at > now
    )
    mine = [
        r
        for r in data["reviews"]
        if r.reviewer_id == request.user.pk and r.superseded_at is None and not r.is_adjudication
    ]
    feedback_correction = next((f.correction for f in data["feedback"] if f.correction is not None), None)
    original = as_text(interaction.output)
    if request.method == "POST" and error:
        correction_text = request.POST.get("correction", "")
    elif mine and mine[0].correction is not None:
        correction_text = as_text(mine[0].correction)
    else:
        correction_text = as_text(feedback_correction) if feedback_correction is not None else original

    context = {
        **self.admin_site.each_context(request),
        **data,
        "opts": self.opts,
        "title": f"Review {interaction.external_id}",
        "conversation": chat_messages(interaction.input),
        "input_text": as_text(interaction.input),
        "original": original,
        "correction_text": correction_text,
        "diff_html": word_diff_html(original, correction_text),
        "verdicts": Review.Verdict.choices,
        "current": mine[0] if mine else None,
        "posted": request.POST if error else None,
        "error": error,
        "can_review": can_review and not held_by_other,
        "held_by_other": held_by_other,
        "claim_minutes_left": max(0, int((interaction.claim_expires_at - now).total_seconds() // 60))
        if interaction.claim_expires_at and interaction.claimed_by_id == request.user.pk
        else None,
        "overlap": overlap,
        "hidden_verdicts": len(all_reviews) - len(data["reviews"]),
        "changelist_filters": _filters(request),
        "changelist_url": _changelist_url(request),
    }
    status = 400 if error else 200
    return TemplateResponse(request, "admin/feedback/review/review.html", context, status=status)
