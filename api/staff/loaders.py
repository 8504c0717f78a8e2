from __future__ import annotations

from api.core.loaders import ById, Pages
from persistence.staff import queries


class ApiKeyById(ById):
    fetch = queries.api_keys_by_ids


class AuditPage(Pages):
    async def page(self, subject, after, limit):
        return await queries.audit_page(self.reader, subject, after, limit)


class ApiKeyPage(Pages):
    async def page(self, after, limit):
        return await queries.api_key_page(self.reader, after, limit)
