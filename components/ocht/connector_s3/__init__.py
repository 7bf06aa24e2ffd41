"""Object storage (S3 and S3-compatible; GCS and Azure through the same layer).

``csv``, ``parquet``, ``ndjson`` and ``json`` inputs and outputs whose ``path`` is an
object-store URL (``s3://bucket/orders/*.parquet``) are served by this brick: Parquet is
read in place by Polars' cloud reader, text formats are staged and read by the local file
sources (same rows, same bad-line handling), listing and small objects go through obstore,
outputs are published at commit from a hidden temporary key. Credentials come from the
environment (``AWS_*``) or from ``storage_options`` (``${env:...}`` for secrets).

Example:
    >>> from ocht.connector_s3 import Location
    >>> Location.parse("s3://lake/raw/*.csv").prefix
    'raw/'
"""

from ocht.connector_s3.catalog import CONNECTORS
from ocht.connector_s3.objects import (
    SCHEMES,
    Location,
    ObjectInfo,
    ObjectStoreError,
    list_objects,
    open_store,
)
from ocht.connector_s3.sinks import ObjectSink
from ocht.connector_s3.sources import ObjectSource

__all__ = [
    "CONNECTORS",
    "SCHEMES",
    "Location",
    "ObjectInfo",
    "ObjectSink",
    "ObjectSource",
    "ObjectStoreError",
    "list_objects",
    "open_store",
]
