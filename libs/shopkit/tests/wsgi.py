"""The WSGI application of shopkit's test project, for the test that runs it under real gunicorn workers."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
application = get_wsgi_application()
