from __future__ import annotations

from api.core.loaders import ById
from persistence.members import queries


class MemberById(ById):
    fetch = queries.members_by_ids
