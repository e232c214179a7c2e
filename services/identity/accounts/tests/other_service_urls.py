"""A stand-in for another service in tests: one view behind shopkit's JWTAuthentication, no identity code."""
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from shopkit.auth import IsSignedIn, IsStaff, JWTAuthentication


class WhoAmI(APIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsSignedIn]

    def get(self, request):
        user = request.user
        return Response({"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                         "is_staff": user.is_staff})


class StaffOnly(APIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsStaff]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("other/whoami", WhoAmI.as_view()), path("other/staff-only", StaffOnly.as_view())]
