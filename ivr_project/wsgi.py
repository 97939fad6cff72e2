import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivr_project.settings")

application = get_wsgi_application()

# Django's own request class decodes the query string in its constructor, before any
# middleware can answer 400: ours leaves that to the middleware (ivr_project/middleware.py).
from ivr_project.middleware import ContentTypeCheckedRequest  # noqa: E402

application.request_class = ContentTypeCheckedRequest
