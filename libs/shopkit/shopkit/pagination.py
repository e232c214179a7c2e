"""The list pagination of DESIGN.md §5: `{count, next, previous, results}`, `page` and `page_size` ≤ 100.

Links start with SHOP_PUBLIC_URL (shopkit.hosts), never with the request's Host, and page numbers are bounded
(shopkit.guard): a page beyond any real list is a 400 problem, not an offset the database cannot hold.
"""
from rest_framework.pagination import PageNumberPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

from shopkit.guard import bounded_page
from shopkit.hosts import public_uri

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
