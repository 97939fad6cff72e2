"""Placeholder until the dashboard lands: a plain list and the row renderer other views use."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import path
from django.utils.html import format_html, format_html_join

from transactions.models import Transaction


@login_required
@permission_required("transactions.view_transaction", raise_exception=True)
def dashboard(request):
    rows = format_html_join(
        "\n",
        "<li>{} {} {} {}</li>",
        (
            (t.public_id, t.client_name, t.masked_card, t.status)
            for t in Transaction.objects.all()[:50]
        ),
    )
    return HttpResponse(format_html("<h1>Transactions</h1><ul>{}</ul>", rows))


def row_response(request, txn, *, message="", status=200):
    """The dashboard row for `txn` (htmx swap target), with an optional message for the analyst."""
    html = render_to_string(
        "transactions/_row_placeholder.html", {"t": txn, "message": message}, request=request
    )
    return HttpResponse(html, status=status)


urlpatterns = [path("", dashboard, name="dashboard")]
