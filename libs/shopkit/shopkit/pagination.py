"""The list pagination of DESIGN.md §5: `{count, next, previous, results}`, `page` and `page_size` ≤ 100.

Links start with SHOP_PUBLIC_URL (shopkit.hosts), never with the request's Host, and page numbers are bounded
(shopkit.guard): a page beyond any real list is a 400 problem, not an offset the database cannot hold.
"""
from collections.abc import Callable

from rest_framework.pagination import PageNumberPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

from shopkit.guard import bounded_page
from shopkit.hosts import public_uri
from shopkit.problems import NotFound

PAGE_QUERY_PARAM = "page"


def page_link(request, number: int) -> str:
    """The public URL of page ``number`` of the list ``request`` asked for (page 1 drops the parameter)."""
    url = public_uri(request)
    if number == 1:
        return remove_query_param(url, PAGE_QUERY_PARAM)
    return replace_query_param(url, PAGE_QUERY_PARAM, number)


class Pagination(PageNumberPagination):
    page_size = 20
    page_query_param = PAGE_QUERY_PARAM
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        # a number past MAX_PAGE is a 400 here; any other bad one stays Django's InvalidPage → 404 "Invalid page."
        return bounded_page(super().get_page_number(request, paginator))

    def get_next_link(self):
        return page_link(self.request, self.page.next_page_number()) if self.page.has_next() else None

    def get_previous_link(self):
        return page_link(self.request, self.page.previous_page_number()) if self.page.has_previous() else None

    def counted_page(self, request, fetch: Callable[[int, int], tuple[int, list]]) -> dict:
        """The page the request asks for, from ``fetch(offset, limit) → (total, rows)``: one call that brings the
        rows and the total together (a window count instead of a second ``SELECT COUNT(*)``). The body, the
        links and the answers to a bad page (404, or 400 past MAX_PAGE) are those of ``paginate_queryset``."""
        size = self.get_page_size(request)
        raw = bounded_page(request.query_params.get(self.page_query_param, 1))
        try:
            number = int(raw)
        except ValueError:
            number = 0
        if number < 1:
            raise NotFound("Invalid page.")
        total, rows = fetch((number - 1) * size, size)
        if not rows and number > 1:
            raise NotFound("Invalid page.")
        return {
            "count": total,
            "next": page_link(request, number + 1) if number * size < total else None,
            "previous": page_link(request, number - 1) if number > 1 else None,
            "results": rows,
        }
