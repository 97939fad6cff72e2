import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivr_project.settings")

from ivr_project.handlers import application_with_lean_webhooks

application = application_with_lean_webhooks(get_wsgi_application())
