"""HTTP views of the catalog: parse the request, call a selector or service, shape the answer and its caching."""
import copy
import hashlib

from django.http import HttpResponse, QueryDict
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import constants, selectors, services
from catalog.pagecache import PAGES
from catalog.serializers import (CategorySerializer, ProductCreateSerializer, ProductListQuerySerializer,
                                 ProductSerializer, ProductUpdateSerializer, StockAdjustmentSerializer,
                                 StockLevelsSerializer)
from shopkit.auth import ROLE_STAFF, IsStaff, IsStaffOrReadOnly
from shopkit.pagination import Pagination
from shopkit.problems import NotFound

_JSON = JSONRenderer()
_PAGINATION = Pagination()


# -------------------------------------------------------------------------------------------- caching

def _audience(request) -> str:
    """Who the answer is for, which decides how it may be cached: ``public``, ``customer`` or ``staff``."""
    user = request.user
    if user is None:
        return "public"
    return "staff" if user.role == ROLE_STAFF else "customer"


_CACHE_CONTROL = {"public": constants.PUBLIC_CACHE_CONTROL, "customer": constants.CUSTOMER_CACHE_CONTROL,
                  "staff": constants.STAFF_CACHE_CONTROL}


def _conditional(request, audience: str, key: str, last_modified):
    """Validators of a read, and the 304 to answer if the client's copy is still current (else None).

    ``key`` must change whenever the representation does: the ETag is the exact validator. Last-Modified is
    only to the second, so a client that sends If-None-Match too (browsers and NGINX do) gets the exact test.
    """
    etag = '"' + hashlib.blake2b(f"{audience}|{key}".encode(), digest_size=12).hexdigest() + '"'
    seconds = int(last_modified.timestamp()) if last_modified else None
    not_modified = get_conditional_response(request._request, etag=etag, last_modified=seconds)
    return etag, seconds, not_modified


def _known_arguments(request, names: frozenset[str]) -> Request:
    """The request as a list reads it: only the query arguments in ``names``, each with its last value (as Django
    and DRF read a repeated one), in name order.

    Any other argument (a cache buster, utm_*, a typo) never changes a list's answer, so dropping it changes
    nothing but the key: every URL that differs from another only by such arguments, or by their order, shares
    one rendered page, one ETag and the same links. The page is rendered from this request, so what is kept
    under its key can only depend on what the key holds. The gateway's micro-cache keys pages the same way
    (deploy/nginx/nginx.conf.template: the catalog location's proxy_cache_key).
    """
    query = QueryDict(mutable=True)
    for name in sorted(names.intersection(request.query_params)):
        query[name] = request.query_params[name]
    query._mutable = False
    known = copy.copy(request._request)
    known.GET = query
    known.META = {**known.META, "QUERY_STRING": query.urlencode()}
    return Request(known)


def _json(body: bytes) -> HttpResponse:
    # With its length said, gunicorn need not chunk it, and the gateway serves its cached copy with the length
    # too: one write per hit, no chunk framing.
    return HttpResponse(body, content_type="application/json", headers={"Content-Length": str(len(body))})


def _cached(response, audience: str, etag: str, last_modified: int | None):
    response["Cache-Control"] = _CACHE_CONTROL[audience]
    response["Vary"] = "Authorization"
    if audience != "staff":
        response["ETag"] = etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
    return response


# ------------------------------------------------------------------------------------------- categories

_PAGE_ARGUMENTS = frozenset({Pagination.page_query_param, Pagination.page_size_query_param})


class CategoryListApi(APIView):
    pagination_class = Pagination  # DESIGN.md §5: every list is paginated (also tells the OpenAPI generator)

    @extend_schema(responses=CategorySerializer(many=True), summary="All categories, by name, paginated.")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.category_list(), _known_arguments(request, _PAGE_ARGUMENTS),
                                           view=self)
        response = paginator.get_paginated_response(page)
        response["Cache-Control"] = constants.PUBLIC_CACHE_CONTROL
        return response


# --------------------------------------------------------------------------------------------- products

def _list_filters(request, *, staff: bool) -> dict:
    """The list's query parameters, checked (a 400 problem names every bad one)."""
    query = ProductListQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    filters = dict(query.validated_data)
    # Only staff may see inactive products; for anyone else the flag is ignored, like any unknown filter.
    filters["include_inactive"] = staff and filters.get("include_inactive", False)
    return filters


# The arguments the product list reads: its filters and ordering, and the page. The gateway's cache key names the
# same ones; tests/e2e/test_gateway_cache.py checks it against the OpenAPI document.
LIST_ARGUMENTS = frozenset(ProductListQuerySerializer().fields) | _PAGE_ARGUMENTS

_LIST_PARAMETERS = [
    ProductListQuerySerializer,
    OpenApiParameter("page", int, description="A page number within the paginated result set."),
    OpenApiParameter("page_size", int, description="Number of results to return per page (at most 100)."),
]


class ProductListCreateApi(APIView):
    permission_classes = [IsStaffOrReadOnly]
    pagination_class = Pagination  # tells the OpenAPI generator the list is paginated

    @extend_schema(parameters=_LIST_PARAMETERS, responses=ProductSerializer(many=True),
                   summary="Active products, filtered, ordered and paginated.")
    def get(self, request):
        audience = _audience(request)
        known = _known_arguments(request, LIST_ARGUMENTS)
        version, changed_at = selectors.catalog_state()
        etag, last_modified, not_modified = _conditional(
            request, audience, f"{known.get_full_path()}|{version}", changed_at)
        if not_modified is not None:
            return _cached(not_modified, audience, etag, last_modified)
        # The page's links start with SHOP_PUBLIC_URL, whatever Host the request named; the Host is in the key
        # all the same, so a page made for one host name is never served for another. A page is rendered (and
        # its query checked) once per catalog state; an invalid query is a 400 and never kept.
        key = (audience == "staff", request.get_host(), known.get_full_path(), version)
        body = PAGES.get(key)
        if body is None:
            rows = selectors.product_list(**_list_filters(known, staff=audience == "staff"))
            page = _PAGINATION.counted_page(known, lambda offset, limit: selectors.product_page(rows, offset, limit))
            body = _JSON.render(page)
            PAGES.put(key, body)
        return _cached(_json(body), audience, etag, last_modified)

    @extend_schema(request=ProductCreateSerializer, responses={201: ProductSerializer},
                   summary="Staff: add a product (emits product.created).")
    def post(self, request):
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data, actor_id=request.user.id,
                                          actor_email=request.user.email)
        body = selectors.product_get(product_id=product.id, include_inactive=True)
        response = Response(body, status=201, headers={"Location": f"/api/v1/products/{product.id}/"})
        response["Cache-Control"] = constants.STAFF_CACHE_CONTROL
        return response


class ProductDetailApi(APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(responses=ProductSerializer, summary="One product; inactive ones only for staff.")
    def get(self, request, product_id):
        audience = _audience(request)
        staff = audience == "staff"
        # The catalog's version as validator, as for the list: a little less precise than the product's own
        # (another product's change means a fresh 200), but a repeat read costs one cheap query.
        version, changed_at = selectors.catalog_state()
        etag, last_modified, not_modified = _conditional(request, audience, f"{product_id}|{version}", changed_at)
        if not_modified is not None:
            return _cached(not_modified, audience, etag, last_modified)
        key = ("detail", staff, str(product_id), version)
        body = PAGES.get(key)
        if body is None:
            product = selectors.product_get(product_id=product_id, include_inactive=staff)
            if product is None:
                raise NotFound("No such product.")
            body = _JSON.render(product)
            PAGES.put(key, body)
        return _cached(_json(body), audience, etag, last_modified)

    @extend_schema(request=ProductUpdateSerializer, responses=ProductSerializer,
                   summary="Staff: change a product (version +1, emits product.updated).")
    def patch(self, request, product_id):
        serializer = ProductUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        expected_version = changes.pop("version", None)
        services.product_update(product_id=product_id, changes=changes, expected_version=expected_version)
        response = Response(selectors.product_get(product_id=product_id, include_inactive=True))
        response["Cache-Control"] = constants.STAFF_CACHE_CONTROL
        return response

    @extend_schema(responses={204: None}, summary="Staff: withdraw a product (emits product.deleted).")
    def delete(self, request, product_id):
        services.product_delete(product_id=product_id)
        return Response(status=204)


# ------------------------------------------------------------------------------------------------ stock

class ProductStockApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=StockLevelsSerializer, summary="Staff: stock levels of a product.")
    def get(self, request, product_id):
        levels = selectors.stock_levels(product_id=product_id)
        if levels is None:
            raise NotFound("No such product.")
        response = Response(levels)
        response["Cache-Control"] = constants.STAFF_CACHE_CONTROL
        return response


class StockAdjustmentCreateApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=StockAdjustmentSerializer, responses={201: StockLevelsSerializer},
                   summary="Staff: change stock on hand; 409 if it would fall below what is reserved.")
    def post(self, request, product_id):
        serializer = StockAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stock = services.stock_adjust(product_id=product_id, **serializer.validated_data,
                                      actor_id=request.user.id, actor_email=request.user.email)
        return Response({"on_hand": stock.on_hand, "reserved": stock.reserved, "available": stock.available},
                        status=201)
