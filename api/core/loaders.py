"""Dataloaders: one batched statement per relation and request, so that the statements a request makes
do not grow with the items it returns.

A loader is made for its request on first use and kept on the context (`CouponById(info.context)
.load(pk)`), as Saleor's are: nothing is built for what a request does not ask. Each area keeps its
loaders beside its types (`api/<area>/loaders.py`). After a write the request's loaders are dropped
(`Context.after_write`), so that later reads see the write.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, ClassVar, Sequence

from aiodataloader import DataLoader


class Loader(DataLoader):
    """One per request and class. graphql-core cancels the siblings of a field that fails; an answer is
    shared by every resolver that asks, so a resolver cancelled while it waits must not cancel it for
    the others (the CancelledError would reach them, and the request would end with no answer)."""

    def __new__(cls, context):
        loader = context.loaders.get(cls)
        if loader is None:
            loader = super().__new__(cls)
            DataLoader.__init__(loader)
            loader.context = context
            context.loaders[cls] = loader
        return loader

    def __init__(self, context):  # made once per request, in __new__
        pass

    def load(self, key):
        return asyncio.shield(super().load(key))

    @property
    def reader(self):
        return self.context.reader


class ById(Loader):
    """Rows of one table by primary key (None where there is none): `fetch` is the area's `…_by_ids`."""

    fetch: ClassVar[Callable[[Any, Sequence[int]], Awaitable[dict[int, object]]]]

    async def batch_load_fn(self, ids):
        rows = await type(self).fetch(self.reader, list(ids))
        return [rows.get(i) for i in ids]


class Pages(Loader):
    """Pages of a list: each distinct page asked for is one statement. `fetch` is the area's `…_page`,
    called with the reader and the key's parts (a loader whose page needs more overrides `page`)."""

    fetch: ClassVar[Callable[..., Awaitable[list]]]

    async def batch_load_fn(self, keys):
        return [await self.page(*key) for key in keys]

    async def page(self, *key) -> list:
        return await type(self).fetch(self.reader, *key)
