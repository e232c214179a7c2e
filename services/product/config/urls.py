"""URLs of the product service, mounted under their full public paths (the gateway passes them through)."""
from django.urls import include, path
from catalog import apis
from shopkit.openapi import schema_urlpatterns
from shopkit.ops import ops_urlpatterns

urlpatterns = [
    path("", include("shopkit.health")),
    path("api/v1/categories/", apis.CategoryListApi.as_view(), name="category-list"),
    path("api/v1/products/", apis.ProductListCreateApi.as_view(), name="product-list"),
    path("api/v1/products/<uuid:product_id>/", apis.ProductDetailApi.as_view(), name="product-detail"),
    path("api/v1/products/<uuid:product_id>/stock/", apis.ProductStockApi.as_view(), name="product-stock"),
    path("api/v1/products/<uuid:product_id>/stock/adjustments/", apis.StockAdjustmentCreateApi.as_view(),
         name="stock-adjustment-create"),
    *schema_urlpatterns("product"),
    *ops_urlpatterns(),
]

handler404 = "shopkit.problems.handler404"
handler500 = "shopkit.problems.handler500"
