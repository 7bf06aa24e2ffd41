"""REST APIs as inputs and outputs (httpx).

Inputs: ``url``, ``method``, ``params``, ``headers``, ``auth`` (bearer, basic, API key —
values from ``${env:...}``), a ``records`` selector, pagination (next link in the body,
``Link`` header, offset, page number, cursor), incremental loads by a cursor field whose
high-water mark lives in the run store, a rate limit, and retries honouring
``Retry-After``. Outputs POST JSON batches at commit with an idempotency key.

Example:
    >>> from ocht.connector_http import dig
    >>> dig({"data": {"next": "/p2"}}, "data.next")
    '/p2'
"""

from ocht.connector_http.catalog import CONNECTORS
from ocht.connector_http.client import HttpClient, HttpError, retry_after
from ocht.connector_http.pages import MalformedPage, dig, pages, records_of
from ocht.connector_http.sink import HttpSink
from ocht.connector_http.source import HttpSource

__all__ = [
    "CONNECTORS",
    "HttpClient",
    "HttpError",
    "HttpSink",
    "HttpSource",
    "MalformedPage",
    "dig",
    "pages",
    "records_of",
    "retry_after",
]
