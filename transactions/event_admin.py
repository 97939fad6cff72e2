"""Admin for outcome events: the bank's endpoints, the events, every delivery attempt.

Supervisors add and switch off endpoints (the signing secret is shown once, on
the page that answers the creation or a rotation, and never again), read events with their
deliveries and attempts, and redeliver. Events and deliveries are read-only:
only transactions/events.py writes them.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.html import format_html, format_html_join

from . import events
from .models import (
    Delivery,
    DeliveryAttempt,
    EventType,
    OutcomeEvent,
    SecretChanged,
    WebhookEndpoint,
)


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class Redelivers:
    def has_redeliver_permission(self, request):
        return request.user.has_perm("transactions.redeliver_outcomeevent")


def _attempt_log(delivery: Delivery) -> str:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td></tr>",
        (
            (
                f"{a.at:%Y-%m-%d %H:%M:%S}",
                a.http_status or "—",
                a.duration_ms,
                a.error or a.response_excerpt or "",
            )
            for a in delivery.attempt_log.all()
        ),
    )
    if not rows:
        return "—"
    return format_html(
        "<table><tr><th>time</th><th>HTTP</th><th>took</th><th>error or answer</th></tr>{}</table>",
        rows,
    )


def _transaction_link(txn):
    url = reverse("admin:transactions_transaction_change", args=[txn.pk])
    return format_html('<a href="{}">{}</a>', url, txn.public_id)


class EndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=EventType.values,
        help_text="The events sent to this URL.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "event_types", "active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(Redelivers, admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "types", "active", "failed", "created_by", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["created_by", "created_at"]
    actions = ["redeliver_failed", "rotate_secret"]

    @admin.display(description="events")
    def types(self, obj):
        return ", ".join(obj.event_types) or "—"

    @admin.display(description="failed deliveries")
    def failed(self, obj):
        return obj.deliveries.filter(state="failed").count()

    def has_delete_permission(self, request, obj=None):
        return False  # switch it off instead: its delivery history stays

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_secret(request, obj)

    def _show_secret(self, request, endpoint, rotated=False):
        # The one time the secret is shown: on this answer, not kept in a message
        # or a cookie, and not cached.
        ctx = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Copy the signing secret now",
            "endpoint": endpoint,
            "rotated": rotated,
            "changelist_url": reverse("admin:transactions_webhookendpoint_changelist"),
        }
        response = TemplateResponse(request, "admin/transactions/endpoint_secret.html", ctx)
        patch_cache_control(response, no_store=True)
        return response

    @admin.action(description="Rotate the signing secret (one endpoint)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        if len(endpoints := list(queryset[:2])) != 1:
            self.message_user(request, "Select one endpoint to rotate.", messages.ERROR)
            return None
        try:
            endpoints[0].rotate_secret()
        except SecretChanged as e:
            self.message_user(request, str(e), messages.ERROR)
            return None
        return self._show_secret(request, endpoints[0], rotated=True)

    @admin.action(description="Redeliver all failed deliveries", permissions=["redeliver"])
    def redeliver_failed(self, request, queryset):
        count = events.redeliver_failed(queryset)
        self.message_user(request, f"{count} failed deliveries queued again.")


class DeliveryInline(ReadOnly, admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ["endpoint", "state", "attempts", "next_attempt_at", "delivered_at", "log"]
    readonly_fields = fields
    show_change_link = True

    @admin.display(description="attempts made")
    def log(self, obj):
        return _attempt_log(obj)


@admin.register(OutcomeEvent)
class OutcomeEventAdmin(Redelivers, ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "type", "alert", "msg_id", "delivery_states"]
    list_filter = ["type"]
    search_fields = ["transaction__public_id", "transaction__external_ref", "msg_id"]
    list_select_related = ["transaction"]
    date_hierarchy = "created_at"
    fields = ["created_at", "type", "alert", "msg_id", "payload"]
    readonly_fields = fields
    inlines = [DeliveryInline]
    actions = ["redeliver"]

    @admin.display(description="alert", ordering="transaction__public_id")
    def alert(self, obj):
        return _transaction_link(obj.transaction)

    @admin.display(description="deliveries")
    def delivery_states(self, obj):
        return ", ".join(d.get_state_display() for d in obj.deliveries.all()) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("deliveries")

    @admin.action(description="Redeliver the selected events", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        count = events.redeliver_events(list(queryset))
        self.message_user(request, f"{count} deliveries queued again.")


class DeliveryAttemptInline(ReadOnly, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = ["at", "http_status", "duration_ms", "response_excerpt", "error"]
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(Redelivers, ReadOnly, admin.ModelAdmin):
    list_display = ["id", "event", "endpoint", "state", "attempts", "next_attempt_at"]
    list_filter = ["state", "endpoint"]
    search_fields = ["event__msg_id", "event__transaction__public_id"]
    list_select_related = ["event", "endpoint"]
    fields = [
        "event",
        "endpoint",
        "state",
        "attempts",
        "first_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver", "redeliver_all_failed"]

    @admin.action(description="Redeliver the selected", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        count = events.redeliver(queryset)
        self.message_user(request, f"{count} deliveries queued again.")

    @admin.action(
        description="Redeliver all failed (whatever is selected)", permissions=["redeliver"]
    )
    def redeliver_all_failed(self, request, queryset):
        count = events.redeliver_failed()
        self.message_user(request, f"{count} failed deliveries queued again.")
