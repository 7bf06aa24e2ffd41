"""Pagination: turn a first request into the sequence of pages an API serves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import httpx

from ocht.connector_http.client import HttpClient
from ocht.errors import ConnectorError
from ocht.pipeline_model import HttpConnector


class MalformedPage(ConnectorError):
    """A page is not JSON, or holds no record list where ``records`` says."""

    code = "malformed-page"


def dig(body: Any, path: str | None) -> Any:
    """The value at a dotted ``path`` (``data.items``) in a JSON body, or ``None``.

    Example:
        >>> dig({"data": {"items": [1]}}, "data.items"), dig({"a": 1}, "b.c")
        ([1], None)
    """
    if not path:
        return body
    for part in path.split("."):
        if isinstance(body, dict):
            body = body.get(part)
        elif isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        else:
            return None
    return body


def records_of(body: Any, spec: HttpConnector, url: str) -> list[dict[str, Any]]:
    """The records of one page, by the ``records`` selector.

    Raises:
        MalformedPage: no list there, or items that are not objects.
    """
    found = dig(body, spec.records)
    if found is None and spec.records is None and isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        found = lists[0] if len(lists) == 1 else None
    if not isinstance(found, list):
        where = f"at '{spec.records}'" if spec.records else "in the body"
        raise MalformedPage(
            f"{url}: no list of records {where}",
            hint="name the list with `records:` (a dotted path such as data.items)",
        )
    if any(not isinstance(item, dict) for item in found):
        raise MalformedPage(f"{url}: the records are not all JSON objects")
    return found


def pages(
    client: HttpClient, spec: HttpConnector, params: dict[str, Any]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every page as (url, records), following the spec's pagination."""
    pager = spec.paginate
    url: str | None = spec.url
    query = dict(params)
    number = 0
    if pager is not None and pager.type == "offset":
        query[pager.param] = 0
        query[pager.limit_param] = pager.limit
    elif pager is not None and pager.type == "page":
        query[pager.param] = pager.start
        if pager.size_param and pager.size:
            query[pager.size_param] = pager.size
    while url is not None:
        number += 1
        reply = client.request(
            spec.read_method, url, params=query, what=f"{spec.read_method} {url} (page {number})"
        )
        body = _json(reply)
        batch = records_of(body, spec, url)
        yield url, batch
        if spec.max_pages is not None and number >= spec.max_pages:
            return
        if pager is None:
            return
        if pager.type == "next_link":
            link = dig(body, pager.path)
            url = urljoin(url, link) if isinstance(link, str) and link else None
            query = {}  # the link carries its own query
        elif pager.type == "link_header":
            link = reply.links.get("next", {}).get("url")
            url = urljoin(url, link) if link else None
            query = {}
        elif pager.type == "cursor":
            cursor = dig(body, pager.path)
            if cursor in (None, "") or not batch:
                return
            query[pager.param] = cursor
        elif pager.type == "offset":
            if len(batch) < pager.limit:
                return
            query[pager.param] = int(query[pager.param]) + len(batch)
        else:  # page numbers
            short = pager.size is not None and len(batch) < pager.size
            if not batch or short:
                return
            query[pager.param] = int(query[pager.param]) + 1


def _json(reply: httpx.Response) -> Any:
    try:
        return reply.json()
    except ValueError:
        raise MalformedPage(
            f"{reply.request.url.copy_with(query=None)}: the answer is not JSON "
            f"({reply.headers.get('content-type', 'no content type')})",
            hint="check the url; the endpoint must answer JSON",
        ) from None
