"""The ``http`` connector: REST APIs as inputs (paginated, incremental) and outputs (POST).

Example:
    >>> spec = HttpConnector.model_validate(
    ...     {"type": "http", "url": "https://api.example.com/orders", "records": "data",
    ...      "paginate": {"type": "page", "param": "page"}})
    >>> spec.paginate.type, spec.read_method
    ('page', 'GET')
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ocht.pipeline_model.connectors import ConnectorBase
from ocht.pipeline_model.steps import Spec


class BearerAuth(Spec):
    """``Authorization: Bearer <token>``."""

    type: Literal["bearer"]
    token: str = Field(min_length=1, description="The token; use `${env:NAME}`.")


class BasicAuth(Spec):
    """HTTP basic authentication."""

    type: Literal["basic"]
    username: str = Field(description="The user name.")
    password: str = Field(description="Use `${env:NAME}`.")


class ApiKeyAuth(Spec):
    """An API key sent as a header or a query parameter."""

    type: Literal["api_key"]
    name: str = Field(default="X-API-Key", description="Header or parameter name.")
    value: str = Field(min_length=1, description="The key; use `${env:NAME}`.")
    in_: Literal["header", "query"] = Field(
        default="header", alias="in", description="Send it as a header or a query parameter."
    )


HttpAuth = Annotated[BearerAuth | BasicAuth | ApiKeyAuth, Field(discriminator="type")]


class NextLinkPages(Spec):
    """The body names the next page's URL (``links.next``); stop when it is empty."""

    type: Literal["next_link"]
    path: str = Field(default="next", description="Dotted path of the next URL in the body.")


class LinkHeaderPages(Spec):
    """RFC 8288 ``Link: <...>; rel="next"`` headers (GitHub style)."""

    type: Literal["link_header"]


class OffsetPages(Spec):
    """``?offset=0&limit=100``, then 100, 200, ... until a short page."""

    type: Literal["offset"]
    param: str = Field(default="offset", description="Query parameter of the offset.")
    limit_param: str = Field(default="limit", description="Query parameter of the page size.")
    limit: int = Field(default=100, ge=1, description="Records per page.")


class PageNumberPages(Spec):
    """``?page=1``, 2, 3, ... until an empty (or short, with ``size``) page."""

    type: Literal["page"]
    param: str = Field(default="page", description="Query parameter of the page number.")
    start: int = Field(default=1, description="The first page's number.")
    size_param: str | None = Field(default=None, description="Query parameter of the size.")
    size: int | None = Field(
        default=None, ge=1, description="Records per page (a shorter page is the last)."
    )


class CursorPages(Spec):
    """The body holds a cursor (``meta.next_cursor``) sent back as ``param``."""

    type: Literal["cursor"]
    param: str = Field(default="cursor", description="Query parameter carrying the cursor.")
    path: str = Field(description="Dotted path of the next cursor in the body.")


Pagination = Annotated[
    NextLinkPages | LinkHeaderPages | OffsetPages | PageNumberPages | CursorPages,
    Field(discriminator="type"),
]


class HttpIncremental(Spec):
    """Load only records newer than the last run's high-water mark.

    The highest ``cursor`` value loaded is kept in the run store; the next run sends it
    as the query parameter ``param`` (when set) and keeps only records above it.
    """

    cursor: str = Field(description="The record field that grows (`updated_at`, `id`).")
    param: str | None = Field(
        default=None, description="Query parameter that takes the last value (`since`)."
    )
    start: str | None = Field(default=None, description="The value to start from.")


class RateLimit(Spec):
    """At most ``requests_per_second`` requests (spread evenly)."""

    requests_per_second: float = Field(gt=0, description="Requests a second, at most.")


class HttpConnector(ConnectorBase):
    """A REST API: read JSON records page by page, or POST rows as JSON batches."""

    type: Literal["http"]
    url: str = Field(min_length=1, description="The endpoint (http:// or https://).")
    method: Literal["GET", "POST", "PUT", "PATCH"] | None = Field(
        default=None, description="GET for inputs, POST for outputs by default."
    )
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Query parameters."
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    auth: HttpAuth | None = Field(
        default=None, description="`bearer`, `basic` or `api_key` (values from `${env:...}`)."
    )
    records: str | None = Field(
        default=None,
        description="Inputs: dotted path of the record list in each page (`data.items`); "
        "default: the body itself when it is a list.",
    )
    paginate: Pagination | None = Field(default=None, description="Inputs: how to page.")
    max_pages: int | None = Field(default=None, ge=1, description="Inputs: stop after this.")
    incremental: HttpIncremental | None = Field(
        default=None, description="Inputs: load only records above the last run's cursor."
    )
    schema_: dict[str, str] | None = Field(
        default=None, alias="schema", description="Inputs: every field's type; skips inference."
    )
    rate_limit: RateLimit | None = Field(default=None, description="Pace the requests.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds per request.")
    batch_size: int = Field(default=500, ge=1, description="Outputs: rows per request.")
    idempotency_header: str | None = Field(
        default="Idempotency-Key",
        description="Outputs: header carrying a key derived from the batch's content, so a "
        "retried or re-run batch is recognised by the server (null: no header).",
    )

    @property
    def read_method(self) -> str:
        """The method used to read."""
        return self.method or "GET"

    @property
    def write_method(self) -> str:
        """The method used to write."""
        return self.method or "POST"
