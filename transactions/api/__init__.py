"""The bank's integration API (/api/v1/): alerts in, by API key.

Django REST framework with drf-spectacular: the OpenAPI description is
generated from the same serializers and views that answer, so the docs
cannot drift from the code (a test validates every response against it).
"""
