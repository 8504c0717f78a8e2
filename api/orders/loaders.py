from __future__ import annotations

from api.core.loaders import ById
from persistence.orders import queries


class OrderById(ById):
    fetch = queries.orders_by_ids
