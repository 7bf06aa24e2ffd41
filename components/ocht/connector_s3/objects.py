"""Object-store locations: parse ``s3://bucket/prefix/*.parquet``, open the store, list.

Every call that talks to the store goes through :func:`ocht.resilience.call_with_retry`
with the connector's ``retry:`` policy: throttling, resets and 5xx answers are retried
with backoff; a missing bucket, a denied request or bad credentials fail at once with a
stable code.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from ocht.errors import ConnectorError, SourceUnreachable, TransientError
from ocht.pipeline_model import Retry
from ocht.resilience import call_with_retry

if TYPE_CHECKING:
    from obstore.store import ObjectStore

T = TypeVar("T")

#: URL schemes this brick reads and writes
SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory")

_GLOB_CHARS = frozenset("*?[")

#: ``storage_options`` keys that are HTTP client settings for obstore, not store config
_CLIENT_KEYS = frozenset(
    {
        "allow_http",
        "allow_invalid_certificates",
        "connect_timeout",
        "timeout",
        "pool_idle_timeout",
        "proxy_url",
        "user_agent",
    }
)


class ObjectStoreError(ConnectorError):
    """The object store refused a request (denied, bad credentials, bad configuration)."""

    code = "object-store-error"


@dataclass(frozen=True)
class ObjectInfo:
    """One object found by a listing.

    Attributes:
        url: the full URL (``s3://bucket/key``).
        key: the key inside the bucket.
        size: bytes.
        etag: the store's entity tag (changes when the content changes), or ``""``.
        modified: last-modified time, ISO 8601.
    """

    url: str
    key: str
    size: int
    etag: str
    modified: str


@dataclass(frozen=True)
class Location:
    """A parsed object URL: scheme, bucket and key (which may hold a glob).

    Example:
        >>> loc = Location.parse("s3://lake/orders/2024-*.parquet")
        >>> loc.bucket, loc.prefix, loc.is_glob
        ('lake', 'orders/', True)
        >>> Location.parse("s3://lake/orders/a.csv").prefix
        'orders/'
    """

    scheme: str
    bucket: str
    key: str

    @classmethod
    def parse(cls, url: str) -> Location:
        """Split ``url``; the key keeps its glob characters.

        Raises:
            SourceUnreachable: not an object URL with a bucket.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES or not parts.netloc:
            raise SourceUnreachable(
                f"'{url}' is not an object-store URL",
                hint="write it as s3://bucket/path (or gs://, az://)",
                path=url,
            )
        return cls(scheme, parts.netloc, parts.path.lstrip("/"))

    @property
    def root(self) -> str:
        """``scheme://bucket``."""
        return f"{self.scheme}://{self.bucket}"

    @property
    def is_glob(self) -> bool:
        """Whether the key holds ``*``, ``?`` or ``[``."""
        return any(ch in _GLOB_CHARS for ch in self.key)

    @property
    def prefix(self) -> str:
        """The key up to the folder holding the first glob character (listing starts there)."""
        if not self.is_glob:  # listing is by whole path segments: start at the parent
            return self.key[: self.key.rstrip("/").rfind("/") + 1]
        head = self.key[: min(self.key.index(c) for c in _GLOB_CHARS if c in self.key)]
        return head[: head.rfind("/") + 1]

    def url(self, key: str) -> str:
        """The URL of ``key`` in the same bucket."""
        return f"{self.root}/{key}"


def split_options(options: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """``storage_options`` as obstore's (store config, HTTP client options).

    Keys are the object_store names Polars takes as ``storage_options`` too
    (``aws_endpoint_url`` or ``endpoint_url``, ``aws_region``, ``aws_access_key_id``,
    ``aws_secret_access_key``, ``allow_http``, ...).
    """
    config: dict[str, str] = {}
    client: dict[str, str] = {}
    for key, value in (options or {}).items():
        (client if key.lower() in _CLIENT_KEYS else config)[key.lower()] = str(value)
    return config, client


def open_store(location: Location, options: Mapping[str, str] | None) -> ObjectStore:
    """An obstore store for ``location``'s bucket.

    Raises:
        ObjectStoreError: an unknown option key or an unusable configuration.
    """
    from obstore.exceptions import BaseError
    from obstore.store import from_url

    config, client = split_options(options)
    try:
        return from_url(location.root, config=config or None, client_options=client or None)  # type: ignore[arg-type]
    except (BaseError, ValueError) as exc:
        raise ObjectStoreError(
            f"cannot configure the store for {location.root}: {_first_line(exc)}",
            hint="check storage_options: keys such as endpoint_url, region, access_key_id",
        ) from None


def guarded(fn: Callable[[], T], *, what: str, retry: Retry | None) -> T:
    """Call ``fn`` (a store request) with retries for transient failures.

    Raises:
        SourceUnreachable: the object or bucket does not exist.
        ObjectStoreError: denied, unauthenticated, or another permanent refusal.
        RetriesExhausted: transient failures outlasted the retry policy.
    """

    def once() -> T:
        from obstore.exceptions import (
            GenericError,
            NotFoundError,
            PermissionDeniedError,
            UnauthenticatedError,
        )

        try:
            return fn()
        except NotFoundError:
            raise SourceUnreachable(
                f"{what}: not found", hint="check the bucket and key", path=what
            ) from None
        except (PermissionDeniedError, UnauthenticatedError) as exc:
            raise ObjectStoreError(
                f"{what}: access denied ({_first_line(exc)})",
                hint="check the credentials in storage_options or the environment",
            ) from None
        except GenericError as exc:
            text = str(exc)
            if _looks_transient(text):
                raise TransientError(f"{what}: {_first_line(exc)}") from None
            if "NoSuchBucket" in text or "does not exist" in text:
                raise SourceUnreachable(
                    f"{what}: the bucket does not exist", hint="create it or fix the URL"
                ) from None
            raise ObjectStoreError(f"{what}: {_first_line(exc)}") from None
        except OSError as exc:  # connection refused / reset before HTTP
            raise TransientError(f"{what}: {exc}") from None

    return call_with_retry(once, policy=retry or Retry(attempts=3, initial=0.2), what=what)


def list_objects(
    store: ObjectStore, location: Location, *, retry: Retry | None = None
) -> list[ObjectInfo]:
    """Every object the location names, sorted by key.

    A plain key names that object, or every object under it when it is a folder
    (``s3://b/orders/``); a glob is matched against the keys under its prefix
    (``**`` crosses folders). Keys of hidden folders (``.ocht-tmp/``) are never listed.
    """
    import obstore

    def fetch() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        prefix = location.prefix.rstrip("/")
        for chunk in obstore.list(store, prefix=prefix or None, chunk_size=1000):
            found.extend(chunk)  # type: ignore[arg-type]
        return found

    metas = guarded(fetch, what=f"list {location.root}/{location.prefix}", retry=retry)
    out = []
    for meta in metas:
        key = str(meta["path"])
        if any(part.startswith((".", "_")) for part in key.split("/")):
            continue
        if not _matches(location, key):
            continue
        out.append(
            ObjectInfo(
                url=location.url(key),
                key=key,
                size=int(meta["size"]),
                etag=str(meta.get("e_tag") or ""),
                modified=meta["last_modified"].isoformat(),
            )
        )
    return sorted(out, key=lambda o: o.key)


def _matches(location: Location, key: str) -> bool:
    if location.is_glob:
        return fnmatch.fnmatchcase(key, location.key.replace("**/", "*").replace("**", "*"))
    if key == location.key:
        return True
    folder = location.key if location.key.endswith("/") else location.key + "/"
    return key.startswith(folder)


def _looks_transient(text: str) -> bool:
    markers = ("SlowDown", "503", "500 Internal", "502", "504", "timed out", "connection")
    return any(m.lower() in text.lower() for m in markers)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
