"""The API's routes. Its views are imported at their first request, not when the URLs load:
Django REST framework imports every optional package it finds installed (psycopg, requests,
pyyaml, pygments...), 20 MB in each web worker that never serves the API."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def _lazy(name: str):
    # csrf_exempt here too: the middleware looks at this function, not the view it calls.
    @csrf_exempt
    def view(request, *args, **kwargs):
        from . import views

        return getattr(views, name)(request, *args, **kwargs)

    view.__name__ = name
    return view


urlpatterns = [
    path("api/v1/alerts", _lazy("alerts"), name="api-alerts"),
    path("api/v1/alerts/<str:public_id>", _lazy("alert"), name="api-alert"),
    path("api/v1/openapi.json", _lazy("openapi"), name="api-openapi"),
    path("api/v1/docs", _lazy("docs"), name="api-docs"),
]
