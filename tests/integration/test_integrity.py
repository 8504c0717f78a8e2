"""`loyalty verify` finds a member whose balance disagrees with the ledger or the lots."""
from sqlalchemy import update

from persistence.integrity import find_discrepancies
from persistence.tables import growth_entries, members


async def test_verify_names_each_broken_invariant(api, database):
    await api.login("audited")
    async with database.read_engine.connect() as conn:
        assert await find_discrepancies(conn) == []
    async with database.transaction() as conn:
        await conn.execute(update(members).values(points_balance=members.c.points_balance + 7, growth_value=3,
                                                  points_held=2))
    async with database.read_engine.connect() as conn:
        found = {(d.check, d.expected, d.found) for d in await find_discrepancies(conn)}
    assert found == {
        ("points balance = sum of ledger", 107, 100),
        ("points balance = sum of lot remainders + held - debt", 107, 102),
        ("points held = points the HELD holds took", 2, 0),
        ("points balance = last entry's balanceAfter", 107, 100),
        ("growth value = sum of growth ledger", 3, 0),
    }
    async with database.transaction() as conn:  # put it right so the fixture's own check passes
        await conn.execute(update(members).values(points_balance=members.c.points_balance - 7, growth_value=0,
                                                  points_held=0))
        await conn.execute(growth_entries.delete())
