"""Keep gRPC's C core and absl from writing to a terminal the app owns.

Its own module, below both the Milvus connection and the Milvus Lite supervisor: both
must set it before ``grpc`` is first imported, and importing one from the other made
an import cycle (supervisor -> connection -> server -> supervisor).
"""

from __future__ import annotations

import os


def quiet_grpc() -> None:
    """Set gRPC's and absl's log levels to silent unless the user set them.

    gRPC reads these variables once, when ``grpc`` is first imported, so this runs in the
    code paths that import pymilvus (never at import time of chat_tui). A user who set
    them explicitly (to debug) keeps theirs.
    """
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    os.environ.setdefault("GRPC_TRACE", "")
    # absl (which gRPC's core logs through since 1.6x): only fatal messages.
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "3")


__all__ = ["quiet_grpc"]
