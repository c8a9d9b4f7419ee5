"""Streamed geo-portal answers stay streamed under ASGI.

Django serves a ``StreamingHttpResponse`` built on a synchronous iterator to an ASGI server by reading the
whole iterator into a list first, so a WFS GetFeature of a million parcels would sit in memory before the
first byte leaves. Under ASGI this module swaps the iterator for an asynchronous one that pulls ~64 KiB at a
time in the view's thread (where the database cursor lives). Under WSGI the synchronous iterator is already
streamed and is left alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase

BATCH_BYTES = 64 * 1024


def _batches(parts: Iterator[bytes]):
    def next_batch() -> bytes:
        chunk: list[bytes] = []
        size = 0
        for part in parts:
            chunk.append(part)
            size += len(part)
            if size >= BATCH_BYTES:
                break
        return b"".join(chunk)

    return next_batch


def keep_streaming(
    request: HttpRequest, response: HttpResponseBase, *, thread_sensitive: bool = True
) -> HttpResponseBase:
    """Make a synchronous streaming response stream under ASGI too (returns the same response).

    ``thread_sensitive`` keeps the iterator in the view's thread, where its database cursor lives; an
    iterator over a plain file (an export) does not need it.
    """
    if not isinstance(request, ASGIRequest) or not getattr(response, "streaming", False) or response.is_async:
        return response
    next_batch = sync_to_async(_batches(iter(response.streaming_content)), thread_sensitive=thread_sensitive)

    async def stream() -> AsyncIterator[bytes]:
        while True:
            batch = await next_batch()
            if not batch:
                return
            yield batch

    response.streaming_content = stream()
    return response
