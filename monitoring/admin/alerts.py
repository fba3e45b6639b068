"""Alert rules, alerts and webhook deliveries in the admin, and the dashboard's place in it."""

from django import forms
from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.html import format_html

from feedback.admin.scoping import ProjectScopedAdmin
from monitoring.admin.dashboard import dashboard_urls
from monitoring.models import Alert, AlertRule, WebhookDelivery


class AlertInline(admin.TabularInline):
    model = Alert
    fields = ("status", "opened_at", "resolved_at", "value")
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = True
    ordering = ("-opened_at",)


class AlertRuleForm(forms.ModelForm):
    webhook_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = AlertRule
        fields = (
            "project",
            "name",
            "enabled",
            "metric",
            "score_name",
            "model",
            "prompt_version",
            "window_minutes",
            "comparison",
            "threshold",
            "min_volume",
            "webhook_url",
            "webhook_secret",
        )
        widgets = {"webhook_secret": forms.PasswordInput(render_value=True)}

    def clean(self):
        data = super().clean()
        if data.get("webhook_url") and not data.get("webhook_secret"):
            self.add_error("webhook_secret", "A webhook needs a secret: receivers verify the signature with it.")
        if data.get("score_name") and data.get("metric") != AlertRule.Metric.MEAN_SCORE:
            self.add_error("score_name", "Only a mean_score rule averages one score name.")
        if data.get("metric") == AlertRule.Metric.NEGATIVE_RATE and not 0 <= (data.get("threshold") or 0) <= 1:
            self.add_error("threshold", "A negative rate is between 0 and 1 (0.25 is 25%).")
        if data.get("metric") == AlertRule.Metric.AGREEMENT and not -1 <= (data.get("threshold") or 0) <= 1:
            self.add_error("threshold", "Krippendorff's alpha is between -1 and 1 (0.667 is a common floor).")
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ("name", "project", "metric", "condition", "min_volume", "enabled", "last_value", "state")
    list_filter = ("project", "metric", "enabled")
    list_select_related = ("project",)
    search_fields = ("name", "model", "prompt_version")
    readonly_fields = ("last_evaluated_at", "last_value", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("project", "name", "enabled")}),
        ("What to watch", {"fields": ("metric", "score_name", "model", "prompt_version", "window_minutes")}),
        ("When to fire", {"fields": ("comparison", "threshold", "min_volume")}),
        ("Webhook", {"fields": ("webhook_url", "webhook_secret")}),
        ("Last evaluation", {"fields": ("last_evaluated_at", "last_value", "created_at", "updated_at")}),
    )
    inlines = [AlertInline]

    def get_queryset(self, request):
        firing = Alert.objects.filter(rule=OuterRef("pk"), status=Alert.Status.FIRING)
        return super().get_queryset(request).annotate(is_firing=Exists(firing))

    @admin.display(description="condition")
    def condition(self, rule: AlertRule) -> str:
        return f"{rule.get_comparison_display()} {rule.threshold:g}"

    @admin.display(description="state", ordering="-is_firing")
    def state(self, rule: AlertRule) -> str:
        return format_html('<strong style="color:{}">firing</strong>', "#ba2121") if rule.is_firing else "ok"


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("created_at", "event", "attempt", "status_code", "succeeded", "error", "response_excerpt")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("created_at",)


@admin.register(Alert)
class AlertAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    project_lookup = "rule__project"
    list_display = ("rule", "project", "status", "value", "opened_at", "resolved_at")
    list_filter = ("status", "rule__project", "rule__metric")
    list_select_related = ("rule__project",)
    date_hierarchy = "opened_at"
    readonly_fields = ("rule", "status", "opened_at", "resolved_at", "value", "details")
    inlines = [WebhookDeliveryInline]

    @admin.display(description="project", ordering="rule__project__slug")
    def project(self, alert: Alert) -> str:
        return alert.rule.project.slug

    def has_add_permission(self, request) -> bool:
        return False  # alerts are opened by rules only


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    project_lookup = "alert__rule__project"
    list_display = ("created_at", "alert_link", "event", "attempt", "status_code", "succeeded", "url")
    list_filter = ("succeeded", "event")
    list_select_related = ("alert__rule",)
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    @admin.display(description="alert")
    def alert_link(self, delivery: WebhookDelivery) -> str:
        url = reverse("admin:monitoring_alert_change", args=[delivery.alert_id])
        return format_html('<a href="{}">{}</a>', url, delivery.alert)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# The dashboard lives at /admin/dashboard/ and is linked from the top of the admin index.
_site_urls = admin.site.get_urls
admin.site.get_urls = lambda: [*dashboard_urls(), *_site_urls()]
admin.site.index_template = "admin/monitoring/dashboard/admin_index.html"
