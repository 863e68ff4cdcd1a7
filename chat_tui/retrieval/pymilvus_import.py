"""Importing pymilvus without pandas or requests, which chat-tui's use of it never needs.

Why: ``import pymilvus`` costs ~0.57 s on this machine, 0.24 s of it pandas, which its
ORM layer (``Collection``, ``DataFrame`` inserts) imports at module level; chat-tui talks
to Milvus through ``MilvusClient`` with lists of dicts, so ``chat-tui kb search`` and
``ask`` paid for pandas before their first request and never used it.

``importlib.util.LazyLoader`` cannot defer it on Python 3.11: the import statement reads
``__spec__`` of a module found in ``sys.modules``, and any attribute read makes a lazy
module load at once (measured: ``import pandas`` of a lazy pandas took the full time).
So while pymilvus itself is imported, ``pandas``, ``pandas.api``, ``pandas.api.types`` and
``requests`` (~0.1 s more, used only for Zilliz Cloud's global endpoints) are stand-ins
(:class:`DeferredModule`), taken out of ``sys.modules`` again right after:

- a name pymilvus binds at import time is deferred only when listed in ``DEFERRED``:
  ``DataFrame`` (used in annotations of its functions, which Python evaluates at
  definition) and the five ``pandas.api.types`` predicates it imports by name;
- every other attribute, and every attribute read after the import, imports the real
  pandas and comes from it, so the ORM's DataFrame paths work as before (slower only
  on their first use), and ``import pandas`` anywhere afterwards is the real module.

If pymilvus ever reads other pandas names while it is imported, those load pandas then:
slower, never wrong (``tests/unit/retrieval/test_pymilvus_import.py`` would say so).
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

#: Per stand-in module, the names pymilvus may bind while it is imported without
#: loading pandas: classes (annotations only) and functions (called later, if ever).
DEFERRED: dict[str, dict[str, str]] = {
    "pandas": {"DataFrame": "class"},
    "pandas.api": {},
    "pandas.api.types": {
        name: "function"
        for name in ("infer_dtype", "is_array_like", "is_float", "is_list_like", "is_scalar")
    },
    # Only for Zilliz Cloud's global endpoints (pymilvus.client.global_topology): ~0.1 s.
    "requests": {},
}

_lock = threading.Lock()
_importing = threading.local()


def _real(name: str) -> types.ModuleType:
    """The real module ``name``, imported now if needed (never a stand-in)."""
    if isinstance(sys.modules.get(name), DeferredModule):
        with _lock:  # another thread is importing pymilvus: the stand-ins go when it ends
            pass
    return importlib.import_module(name)


class DeferredModule(types.ModuleType):
    """A stand-in for a pandas module while pymilvus is imported (see the module docstring)."""

    def __getattr__(self, attribute: str) -> Any:
        name = self.__name__
        kind = DEFERRED.get(name, {}).get(attribute)
        if getattr(_importing, "active", False) and attribute.startswith("__"):
            # The import system probes __path__ and the like: a plain module lacks them.
            raise AttributeError(attribute)
        if getattr(_importing, "active", False) and kind is not None:
            return (
                _deferred_function(name, attribute)
                if kind == "function"
                else type(
                    attribute, (), {"__module__": name, "__doc__": "pandas, not imported yet"}
                )
            )
        if getattr(_importing, "active", False):
            _withdraw()  # pymilvus reads a name not listed: pandas is needed after all
        return getattr(_real(name), attribute)


def _deferred_function(module: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__module__ = module
    return call


def _withdraw() -> None:
    """Take the stand-ins out of ``sys.modules`` (a later ``import pandas`` is real)."""
    for name in DEFERRED:
        if isinstance(sys.modules.get(name), DeferredModule):
            del sys.modules[name]


def import_pymilvus() -> types.ModuleType:
    """``import pymilvus``, without pandas and requests unless something else imported them."""
    with _lock:
        if "pymilvus" in sys.modules:
            return importlib.import_module("pymilvus")
        for name in DEFERRED:
            if name.split(".")[0] not in sys.modules or isinstance(
                sys.modules.get(name.split(".")[0]), DeferredModule
            ):
                sys.modules[name] = DeferredModule(name)
        for name in DEFERRED:  # a package's stand-in holds its stand-in submodules
            parent, _, child = name.rpartition(".")
            if isinstance(sys.modules.get(name), DeferredModule) and parent:
                setattr(sys.modules[parent], child, sys.modules[name])
        _importing.active = True
        try:
            return importlib.import_module("pymilvus")
        finally:
            _importing.active = False
            _withdraw()


__all__ = ["DEFERRED", "DeferredModule", "import_pymilvus"]
