"""What the API says about an alert (AlertSerializer), and the shapes it documents."""

from datetime import UTC

from rest_framework import serializers

from transactions.models import CallOutcome, CallTrigger, CardDelivery, Status

MAX_ALERTS = 1000


def _when(**kwargs):
    # UTC for the bank's systems; the dashboard shows TIME_ZONE.
    return serializers.DateTimeField(default_timezone=UTC, **kwargs)


class AttemptSerializer(serializers.Serializer):
    """One call placed (or attempted) about the alert."""

    started_at = _when(source="created_at")
    answered_at = _when(allow_null=True)
    ended_at = _when(allow_null=True, help_text="null while the call is on the line.")
    outcome = serializers.ChoiceField(
        choices=CallOutcome.choices, help_text="Empty until the call has ended."
    )
    answered_by = serializers.CharField(help_text="Twilio's AnsweredBy: human, machine_start...")
    trigger = serializers.ChoiceField(choices=CallTrigger.choices)
    duration_seconds = serializers.IntegerField(allow_null=True)


class AnswersSerializer(serializers.Serializer):
    """The customer's answers; null: not asked (yet)."""

    authorized = serializers.BooleanField(allow_null=True)
    shared_card_details = serializers.BooleanField(allow_null=True)
    other_suspicious = serializers.BooleanField(allow_null=True)
    card_delivery = serializers.ChoiceField(choices=CardDelivery.choices, allow_null=True)


class AlertSerializer(serializers.Serializer):
    """A transaction as the bank sees it, with every call about it. Read only.

    Never more of the card than its last four digits. Give it rows with
    `prefetch_related("calls")` when serialising many; context["created"]: public
    ids of rows made in this request, whose calls need not be asked for.
    """

    id = serializers.CharField(source="public_id")
    external_ref = serializers.CharField(help_text="The bank's case id, as sent.")
    status = serializers.ChoiceField(choices=Status.choices)
    needs_review = serializers.BooleanField(
        help_text="A later call's answer contradicted the verdict: a supervisor decides."
    )
    answers = AnswersSerializer()
    client_name = serializers.CharField()
    client_phone = serializers.CharField(source="phone", help_text="E.164")
    card_last4 = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    bank_name = serializers.CharField()
    merchant_name = serializers.CharField()
    transaction_date = serializers.DateField()
    created_at = _when()
    updated_at = _when()
    attempts = AttemptSerializer(many=True, help_text="Oldest first.")

    def to_representation(self, txn) -> dict:
        # The fields above document the shape; Transaction.as_alert writes it, for the
        # API and the outcome events alike. A row made by this very request has no calls.
        return txn.as_alert(with_calls=txn.public_id not in self.context.get("created", ()))


class AlertInSerializer(serializers.Serializer):
    """One alert as the bank sends it: the seed's shape. (Documentation: the
    importer's checks, shared with `manage.py import_transactions`, read it.)"""

    id = serializers.RegexField(r"^[A-Za-z0-9_-]{1,32}$", help_text="The alert's id, e.g. TXN001.")
    client_name = serializers.CharField(max_length=200)
    card_number = serializers.CharField(
        help_text="The last four digits, masked (***1234) or a full number: "
        "only the last four are kept."
    )
    client_phone = serializers.CharField(
        help_text="International form (+919876543210), or national for DEFAULT_PHONE_REGION."
    )
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="A number or a string, at most 2 decimals."
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217; INR when left out."
    )
    bank_name = serializers.CharField(max_length=200)
    merchant_name = serializers.CharField(max_length=200)
    transaction_date = serializers.CharField(help_text="yyyy-mm-dd, or dd/mm/yyyy as the seed.")
    external_ref = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="The bank's case id."
    )
    call = serializers.ChoiceField(
        choices=[("queue", "Queue an automatic call")],
        required=False,
        allow_null=True,
        help_text='"queue": call the customer automatically (calling hours, throttle and '
        "retries apply). Left out: analysts decide.",
    )


class IngestResultSerializer(serializers.Serializer):
    """The answer to a list of alerts: what happened, and every alert as stored."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    calls_queued = serializers.IntegerField(help_text="Automatic calls due now.")
    calls_scheduled = serializers.IntegerField(
        help_text="Automatic calls waiting for the customer's calling hours."
    )
    alerts = AlertSerializer(many=True, help_text="In the order sent.")


class AlertPageSerializer(serializers.Serializer):
    alerts = AlertSerializer(many=True, help_text="Oldest change first.")
    has_more = serializers.BooleanField(help_text="More changes are waiting: ask `next` now.")
    next = serializers.CharField(
        help_text="Where to ask next: at once while has_more, later for newer changes."
    )
