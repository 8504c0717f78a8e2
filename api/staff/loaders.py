from __future__ import annotations

from api.core.loaders import ById, Pages
from persistence.staff import queries


class ApiKeyById(ById):
    fetch = queries.api_keys_by_ids


class AuditPage(Pages):
    fetch = queries.audit_page


class ApiKeyPage(Pages):
    fetch = queries.api_key_page
