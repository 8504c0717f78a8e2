from __future__ import annotations

from api.core.loaders import ById
from persistence.checkout import queries


class HoldById(ById):
    fetch = queries.holds_by_ids
