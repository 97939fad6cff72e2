"""Django admin for supervisors: find, correct, mark and export transactions.

Cards appear only masked. Phone and status changes go through the model's
audited methods (set_phone_by / set_status_by), never a plain save, so every
manual change is recorded and a stale form cannot overwrite what a call did
meanwhile. Calls and their events, and the audit trail, are read-only.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from .cards import card_last4
from .csv_export import csv_download
from .models import ApiKey, AuditEntry, CallAttempt, CallEvent, Status, Transaction
from .phones import normalise_phone

MAX_SEARCH_LENGTH = 200  # as the dashboard's
PAN_DROPPED_MESSAGE = (
    "A full card number was entered. Only its last four digits were kept; "
    "the full number was not stored."
)


class CardInput(forms.TextInput):
    """Never puts more than four digits back on the page, even on a form with errors."""

    def format_value(self, value):
        digits = "".join(ch for ch in str(value or "") if ch.isdigit())
        return digits[-4:] if len(digits) > 4 else super().format_value(value)


class TransactionForm(forms.ModelForm):
    # A plain text box for the card that never shows more than the last four,
    # and accepts a pasted full number only to cut it down.
    card_last4 = forms.CharField(
        label="Card (last four digits)",
        max_length=40,
        widget=CardInput(attrs={"autocomplete": "off", "size": 8}),
        help_text="Last four digits. A full card number is reduced to its last four.",
    )

    class Meta:
        model = Transaction
        fields = [
            "public_id",
            "client_name",
            "card_last4",
            "phone",
            "amount",
            "currency",
            "bank_name",
            "merchant_name",
            "transaction_date",
            "status",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Compare what the user typed with what the form showed, not with the row as
        # it is now: then a call that changed the status meanwhile is not undone.
        for field in self.fields.values():
            field.show_hidden_initial = True

    def clean_card_last4(self):
        try:
            last4, self.pan_dropped = card_last4(self.cleaned_data["card_last4"])
        except ValidationError as e:
            raise forms.ValidationError(e.messages) from None
        return last4

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status == Status.CONNECTING and "status" in self.changed_data:
            raise forms.ValidationError("Only placing a call sets Connecting.")
        return status

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except ValidationError as e:
            raise forms.ValidationError(e.messages) from None


class ReadOnlyInline:
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CallAttemptInline(ReadOnlyInline, admin.TabularInline):
    model = CallAttempt
    fields = [
        "created_at",
        "call_sid",
        "trigger",
        "placed_by",
        "twilio_status",
        "answered_by",
        "duration_seconds",
        "outcome",
        "failure",
    ]
    readonly_fields = fields
    show_change_link = True  # the call's page lists its events
    verbose_name_plural = "calls (open one to see what was said)"

    @admin.display(description="failure")
    def failure(self, obj):
        return obj.failure_reason or "—"


class AuditEntryInline(ReadOnlyInline, admin.TabularInline):
    model = AuditEntry
    fields = ["created_at", "user", "api_key", "field", "old_value", "new_value", "source"]
    readonly_fields = fields


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    form = TransactionForm
    list_display = [
        "public_id",
        "client_name",
        "card",
        "phone",
        "amount",
        "bank_name",
        "merchant_name",
        "transaction_date",
        "status",
        "needs_review",
        "updated_at",
    ]
    list_filter = ["status", "needs_review"]
    date_hierarchy = "transaction_date"
    # Shows the search box; get_search_results decides what it finds.
    search_fields = ["public_id", "client_name", "phone", "merchant_name", "bank_name"]
    search_help_text = (
        "The dashboard's search: an ID, or 3 or more letters of a name, merchant or bank, "
        "or 3 or more digits of a phone."
    )
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) over the whole table on every page
    readonly_fields = [
        "authorized",
        "shared_card_details",
        "other_suspicious",
        "card_delivery",
        "needs_review",
        "opted_out_at",
        "queue_state",
        "queue_trigger",
        "queue_call_number",
        "queue_call_total",
        "next_call_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "public_id",
                    "client_name",
                    "card_last4",
                    "phone",
                    ("amount", "currency"),
                    "bank_name",
                    "merchant_name",
                    "transaction_date",
                    "status",
                    "needs_review",
                ]
            },
        ),
        (
            "Customer's answers",
            {"fields": ["authorized", "shared_card_details", "other_suspicious", "card_delivery"]},
        ),
        (
            "Automatic calling",
            {
                "fields": [
                    "opted_out_at",
                    ("queue_state", "queue_trigger"),
                    ("queue_call_number", "queue_call_total"),
                    "next_call_at",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [CallAttemptInline, AuditEntryInline]
    actions = [
        "mark_resolved",
        "mark_fraud",
        "keep_status_after_review",
        "export_csv",
        "queue_calls",
        "cancel_calls",
    ]

    @admin.display(description="card", ordering="card_last4")
    def card(self, obj):
        return obj.masked_card

    def get_search_results(self, request, queryset, search_term):
        # The dashboard's indexed search (transactions/indexed.py), so both find the
        # same rows, and fast at a million; Django's own ORs a LIKE '%…%' per field.
        if len(search_term) > MAX_SEARCH_LENGTH:
            self.message_user(
                request, f"Search for at most {MAX_SEARCH_LENGTH} characters.", messages.ERROR
            )
            return queryset.none(), False
        return queryset.search(search_term), False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("public_id")  # used in every URL and by the importer's upsert
        if not self.has_set_status_permission(request):
            fields.append("status")
        return fields

    def has_set_status_permission(self, request):
        return request.user.has_perm("transactions.set_status")

    def has_export_permission(self, request):
        return request.user.has_perm("transactions.export_transactions")

    def save_model(self, request, obj, form, change):
        if getattr(form, "pan_dropped", False):
            messages.warning(request, PAN_DROPPED_MESSAGE)
        if not change:
            obj.save()
            return
        # Every change through the audited methods, and only the fields this form
        # changed, so what it did not touch (a call's status, answers) stays as it is.
        plain = [f for f in form.changed_data if f not in ("phone", "status")]
        if plain:
            obj.edit_by(request.user, {f: form.cleaned_data[f] for f in plain}, source="admin")
        if "phone" in form.changed_data:
            obj.set_phone_by(request.user, form.cleaned_data["phone"], source="admin")
        if "status" in form.changed_data:
            obj.set_status_by(request.user, form.cleaned_data["status"], source="admin")

    @admin.action(description="Mark selected as Resolved", permissions=["set_status"])
    def mark_resolved(self, request, queryset):
        self._mark(request, queryset, Status.RESOLVED)

    @admin.action(description="Mark selected as fraud", permissions=["set_status"])
    def mark_fraud(self, request, queryset):
        self._mark(request, queryset, Status.FRAUD)

    @admin.action(
        description="Reviewed: keep the status of the selected (clears needs review)",
        permissions=["set_status"],
    )
    def keep_status_after_review(self, request, queryset):
        kept = sum(
            txn.set_status_by(request.user, txn.status, source="admin")
            for txn in queryset.filter(needs_review=True)
        )
        self.message_user(request, f"{kept} transaction(s) reviewed; their status is kept.")

    def _mark(self, request, queryset, status):
        changed = sum(txn.set_status_by(request.user, status, source="admin") for txn in queryset)
        unchanged = len(queryset) - changed
        note = f" ({unchanged} already were)" if unchanged else ""
        self.message_user(request, f"{changed} transaction(s) marked {status}{note}.")

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        return csv_download(queryset.order_by("id"))

    # Automatic calling (voiceflow/autocall.py): queued here, placed by the task worker.
    def has_place_call_permission(self, request):
        return request.user.has_perm("transactions.place_call")

    @admin.action(description="Call selected automatically (bulk)", permissions=["place_call"])
    def queue_calls(self, request, queryset):
        from voiceflow.tasks import request_bulk_calls

        result = request_bulk_calls(queryset, user=request.user, source="admin")
        self.message_user(request, f"Automatic calls: {result}")

    @admin.action(description="Cancel pending automatic calls", permissions=["place_call"])
    def cancel_calls(self, request, queryset):
        from voiceflow.autocall import cancel_calls

        cancelled = cancel_calls(queryset, user=request.user, source="admin")
        self.message_user(request, f"{cancelled} pending automatic call(s) cancelled.")


class CallEventInline(ReadOnlyInline, admin.TabularInline):
    model = CallEvent
    fields = [
        "created_at",
        "kind",
        "step",
        "prompt",
        "speech_result",
        "confidence",
        "digits",
        "intent",
        "call_status",
        "sequence_number",
    ]
    readonly_fields = fields


@admin.register(CallAttempt)
class CallAttemptAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "transaction_link",
        "created_at",
        "trigger",
        "twilio_status",
        "outcome",
        "duration_seconds",
    ]
    list_filter = ["outcome", "trigger", "twilio_status"]
    search_fields = ["call_sid", "transaction__public_id"]
    list_select_related = ["transaction"]
    date_hierarchy = "created_at"
    inlines = [CallEventInline]
    fields = [
        "transaction_link",
        "call_sid",
        "trigger",
        "placed_by",
        "created_at",
        "answered_at",
        "ended_at",
        "twilio_status",
        "answered_by",
        "duration_seconds",
        "error_code",
        "error_message",
        "outcome",
        "current_step",
    ]
    readonly_fields = fields

    @admin.display(description="transaction", ordering="transaction__public_id")
    def transaction_link(self, obj):
        url = reverse("admin:transactions_transaction_change", args=[obj.transaction_id])
        return format_html('<a href="{}">{}</a>', url, obj.transaction)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "transaction",
        "field",
        "old_value",
        "new_value",
        "user",
        "api_key",
        "source",
    ]
    list_filter = ["field", "source"]
    search_fields = ["transaction__public_id", "user__username", "api_key__name"]
    list_select_related = ["transaction", "user", "api_key"]
    date_hierarchy = "created_at"
    fields = list_display
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Supervisors issue and revoke the bank's keys. A key is shown once, on the page that
    answers its creation (not in a message, which would keep it in a cookie or the
    session); only its hash is stored, and never shown. Keys are revoked, not deleted:
    audit entries name them."""

    list_display = ["name", "prefix", "rate_limit", "created_by", "created_at", "last_used_at"]
    list_display += ["revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    list_select_related = ["created_by"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "rate_limit"]
        return ["name", "rate_limit", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            request.new_api_key = obj.generate()
        obj.save()

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "title": f"API key “{obj.name}” created",
            "opts": self.opts,
            "api_key": obj,
            "key": request.new_api_key,
        }
        response = TemplateResponse(request, "admin/transactions/apikey/created.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(api_key.revoke() for api_key in queryset)
        self.message_user(request, f"{revoked} key(s) revoked.", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False


# Outcome events to the bank: endpoints, events, deliveries (its own module, same site).
from . import event_admin  # noqa: E402, F401
