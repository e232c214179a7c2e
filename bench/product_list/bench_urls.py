"""The service's URLs plus two baselines of the issue, for comparison in the same run on the same data:
`/bench/naive/` (DRF ModelSerializer, no select_related) and `/bench/values/` (plain Django values())."""
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.urls import include, path
from rest_framework import generics, serializers

from catalog.models import Product


class NaiveProductSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    available = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "description", "price", "currency", "category", "image_url", "active",
                  "available", "created_at", "updated_at", "version"]

    def get_available(self, product):
        return product.stock.available  # one query per row: the N+1 the issue warns about


class NaiveList(generics.ListAPIView):
    serializer_class = NaiveProductSerializer
    queryset = Product.objects.filter(active=True, deleted_at__isnull=True).order_by("name")


def values_list_view(request):
    rows = (Product.objects.filter(active=True, deleted_at__isnull=True).order_by("name")
            .values("id", "sku", "name", "description", "price", "currency", "category__slug", "image_url",
                    "active", "created_at", "updated_at", "version", "stock__on_hand", "stock__reserved"))
    page = Paginator(rows, 20).page(int(request.GET.get("page", 1)))
    return JsonResponse({"count": page.paginator.count, "results": list(page.object_list)})


urlpatterns = [
    path("bench/naive/", NaiveList.as_view()),
    path("bench/values/", values_list_view),
    path("", include("config.urls")),
]
