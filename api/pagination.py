"""The API's pagination (the REST_FRAMEWORK default)."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; `?page=N`, optional `?page_size=` up to 100.

    Both are whole numbers from 1, as the schema says. DRF would read an unreadable `page_size`
    (`null`, `abc`, `0`) as "the default" and `page=` or `page=last` as pages too, so a client's
    bug went unnoticed; here they are refused like an unreadable `page` always was: a 404 naming
    the parameter (the status every paginated operation documents). A `page_size` above the
    maximum is not an error: it gets the maximum, as the description says.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()  # "last" is not an integer; the schema does not offer it

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # ASCII digits only: int() would also take " 7", "+7" and other scripts' digits.
        digits = raw.lstrip("0") if raw.isascii() and raw.isdigit() else ""
        if not digits:
            raise NotFound(f"Invalid page size: {self.page_size_query_param} is a whole number from 1.")
        # More digits than the maximum has: the maximum, without int() on a 5,000-digit string.
        if len(digits) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(digits), self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        # Absent: the first page. Sent empty: not a page number (Django's paginator refuses it).
        return 1 if raw is None else raw

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page, {self.page_size} unless given; at most {self.max_page_size} "
                    "(a larger value gets that many)."
                )
        return parameters
