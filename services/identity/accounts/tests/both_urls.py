"""Test URLs: identity's own routes and the stand-in other service, so a live server can serve both."""
from accounts.tests import other_service_urls
from config import urls as identity_urls

urlpatterns = identity_urls.urlpatterns + other_service_urls.urlpatterns
