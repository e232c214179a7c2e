"""HTTP views of the catalog: parse the request, call a selector or service, shape the answer and its caching."""
import hashlib

from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import constants, selectors, services
from catalog.pagecache import PAGES
from catalog.serializers import (CategorySerializer, ProductCreateSerializer, ProductSerializer,
                                 ProductUpdateSerializer, StockAdjustmentSerializer, StockLevelsSerializer)
from shopkit.auth import ROLE_STAFF, IsStaff, IsStaffOrReadOnly
from shopkit.guard import bounded_page, query_decimal
from shopkit.pagination import Pagination, page_link
from shopkit.problems import ApplicationError, NotFound

_JSON = JSONRenderer()
_PAGINATION = Pagination()
_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


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


def _cached(response, audience: str, etag: str, last_modified: int | None):
    response["Cache-Control"] = _CACHE_CONTROL[audience]
    response["Vary"] = "Authorization"
    if audience != "staff":
        response["ETag"] = etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
    return response


# ------------------------------------------------------------------------------------------- categories

class CategoryListApi(APIView):
    pagination_class = Pagination  # DESIGN.md §5: every list is paginated (also tells the OpenAPI generator)

    @extend_schema(responses=CategorySerializer(many=True), summary="All categories, by name, paginated.")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.category_list(), request, view=self)
        response = paginator.get_paginated_response(page)
        response["Cache-Control"] = constants.PUBLIC_CACHE_CONTROL
        return response


# --------------------------------------------------------------------------------------------- products

def _list_filters(params, *, staff: bool) -> dict:
    """The list's query parameters, checked; every bad one is reported at once in a 400 problem."""
    errors = {}
    search = params.get("search", "").strip()
    if len(search) > constants.MAX_SEARCH_LENGTH:
        errors["search"] = [f"At most {constants.MAX_SEARCH_LENGTH} characters."]
    prices = {}
    for name in ("min_price", "max_price"):
        try:  # shopkit's guard: finite, bounded, a 400 naming the parameter otherwise
            prices[name] = query_decimal(params, name, low=0, high=constants.MAX_PRICE,
                                         message="A price: a number from 0 up.")
        except ApplicationError as exc:
            errors.update(exc.errors)
            prices[name] = None
    if "min_price" not in errors and "max_price" not in errors and None not in prices.values() \
            and prices["min_price"] > prices["max_price"]:
        errors["min_price"] = ["Must not exceed max_price."]
    in_stock = params.get("in_stock", "").strip().lower()
    if in_stock and in_stock not in _TRUE + _FALSE:
        errors["in_stock"] = ["true or false."]
    ordering = params.get("ordering", "").strip() or constants.DEFAULT_ORDERING
    if ordering not in constants.ORDERINGS:
        errors["ordering"] = [f"One of {', '.join(constants.ORDERINGS)}."]
    if errors:
        raise ApplicationError("The query has invalid parameters.", status=400, code="validation", errors=errors)
    return {
        "search": search,
        "category": params.get("category", "").strip(),
        "min_price": prices["min_price"],
        "max_price": prices["max_price"],
        "in_stock": None if not in_stock else in_stock in _TRUE,
        "ordering": ordering,
        # Only staff may see inactive products; for anyone else the flag is ignored, like any unknown filter.
        "include_inactive": staff and params.get("include_inactive", "").strip().lower() in _TRUE,
    }


_LIST_PARAMETERS = [
    OpenApiParameter("search", str, description="Case-insensitive match in name, sku or description."),
    OpenApiParameter("category", str, description="A category slug."),
    OpenApiParameter("min_price", str, description="Lowest price, a decimal."),
    OpenApiParameter("max_price", str, description="Highest price, a decimal."),
    OpenApiParameter("in_stock", bool, description="Only products with (true) or without (false) stock available."),
    OpenApiParameter("ordering", str, enum=list(constants.ORDERINGS), description="Default: name."),
    OpenApiParameter("include_inactive", bool, description="Staff only: list inactive products too."),
    OpenApiParameter("page", int, description="A page number within the paginated result set."),
    OpenApiParameter("page_size", int, description="Number of results to return per page (at most 100)."),
]


def _product_page(request, rows) -> dict:
    """``{count, next, previous, results}`` exactly as shopkit's Pagination writes it, from one query."""
    size = _PAGINATION.get_page_size(request)
    raw = bounded_page(request.query_params.get(_PAGINATION.page_query_param, 1))  # 400 past MAX_PAGE
    try:
        number = int(raw)
    except ValueError:
        number = 0
    found = selectors.product_page(rows, number=number, size=size) if number >= 1 else None
    if found is None:
        raise NotFound("Invalid page.")
    total, page = found
    return {
        "count": total,
        "next": page_link(request, number + 1) if number * size < total else None,
        "previous": page_link(request, number - 1) if number > 1 else None,
        "results": [selectors.product_row_json(row) for row in page],
    }


class ProductListCreateApi(APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(parameters=_LIST_PARAMETERS, responses=ProductSerializer(many=True),
                   summary="Active products, filtered, ordered and paginated.")
    def get(self, request):
        audience = _audience(request)
        filters = _list_filters(request.query_params, staff=audience == "staff")
        version, changed_at = selectors.catalog_state()
        etag, last_modified, not_modified = _conditional(
            request, audience, f"{request.get_full_path()}|{version}", changed_at)
        if not_modified is not None:
            return _cached(not_modified, audience, etag, last_modified)
        # The page's links start with SHOP_PUBLIC_URL, whatever Host the request named; the Host is in the key
        # all the same, so a page made for one host name is never served for another.
        key = (filters["include_inactive"], request.get_host(), request.get_full_path(), version)
        body = PAGES.get(key)
        if body is None:
            body = _JSON.render(_product_page(request, selectors.product_list(**filters)))
            PAGES.put(key, body)
        return _cached(HttpResponse(body, content_type="application/json"), audience, etag, last_modified)

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
        return _cached(HttpResponse(body, content_type="application/json"), audience, etag, last_modified)

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
