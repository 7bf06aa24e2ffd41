"""A real S3-compatible server on loopback (moto in server mode) for object-store tests.

Example:
    >>> from ocht.testkit import S3Server
    >>> with S3Server() as s3:
    ...     s3.create_bucket("doctest-lake")
    ...     s3.put("doctest-lake", "raw/a.csv", b"x\\n1\\n")
    ...     s3.keys("doctest-lake")
    ['raw/a.csv']
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

from ocht.testkit.loopback import Server


class S3Server(Server):
    """moto's S3 server on a free loopback port, with helpers to seed and read buckets.

    moto keeps its buckets per process, not per server: tests name their own buckets
    (:func:`~ocht.testkit.unique_name`).

    Attributes:
        endpoint: ``http://127.0.0.1:PORT``.
        options: ``storage_options`` for pipelines and Polars (endpoint, keys, region).
    """

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.options: dict[str, str] = {
            "endpoint_url": self.endpoint,
            "access_key_id": "testing",
            "secret_access_key": "testing-secret",
            "region": "us-east-1",
            "allow_http": "true",
        }

    def stop(self) -> None:
        """Stop the server (its buckets are gone)."""
        self._server.stop()

    def create_bucket(self, bucket: str) -> None:
        """Create ``bucket`` (an S3 ``PUT /bucket``)."""
        request = urllib.request.Request(f"{self.endpoint}/{bucket}", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()

    def store(self, bucket: str) -> Any:
        """An obstore store for ``bucket`` on this server."""
        from obstore.store import S3Store

        return S3Store(
            bucket,
            endpoint=self.endpoint,
            access_key_id=self.options["access_key_id"],
            secret_access_key=self.options["secret_access_key"],
            region=self.options["region"],
            client_options={"allow_http": True},
        )

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Write one object."""
        import obstore

        obstore.put(self.store(bucket), key, data)

    def get(self, bucket: str, key: str) -> bytes:
        """Read one object."""
        import obstore

        return bytes(obstore.get(self.store(bucket), key).bytes())

    def keys(self, bucket: str, prefix: str | None = None) -> list[str]:
        """Every key in ``bucket`` (hidden ones included), sorted."""
        import obstore

        return sorted(
            str(meta["path"])
            for chunk in obstore.list(self.store(bucket), prefix=prefix)
            for meta in chunk
        )
