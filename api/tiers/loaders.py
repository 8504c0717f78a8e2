from __future__ import annotations

from api.core.loaders import ById
from persistence.tiers import queries
from persistence.tiers.queries import TierCatalog


class TierById(ById):
    fetch = queries.tiers_by_ids


class BenefitById(ById):
    fetch = queries.benefits_by_ids


def current_tier_catalog(context) -> TierCatalog | None:
    """The held catalog if this request knows it to be current (its version came with the session)."""
    held = context.services.program_data.get(TierCatalog)
    return held if held is not None and held.version == context.catalog_version else None


async def tier_catalog(context) -> TierCatalog:
    """The tiers and benefits, held by the process and read again only when `catalog_version` says they
    changed. A member's or staff member's request knows the version already (read with its session:
    `Context.catalog_version`); any other request reads it once, when it first needs the tiers."""
    if context.catalog_version is None:
        context.catalog_version = await queries.current_catalog_version(context.reader)
    held = context.services.program_data.get(TierCatalog)
    if held is None or held.version != context.catalog_version:
        held = context.services.program_data[TierCatalog] = await queries.tier_catalog(context.reader)
    return held
