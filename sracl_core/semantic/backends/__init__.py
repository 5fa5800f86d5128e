"""LLM backends behind one interface (see :mod:`.base`)."""

from sracl_core.semantic.backends.base import (
    ChatRequest,
    Generation,
    LazyBackend,
    LLMBackend,
    create_backend,
)

__all__ = ["ChatRequest", "Generation", "LLMBackend", "LazyBackend", "create_backend"]
