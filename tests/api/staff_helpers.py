"""Staff accounts for the API tests, made as `loyalty staff create` makes them."""
from __future__ import annotations

from domain import commands
from tests.conftest import service_for

PASSWORD = "correct horse battery staple"
STAFF_LOGIN = """
mutation StaffLogin($username: String!, $password: String!) {
  staffLogin(input: { username: $username, password: $password }) {
    accessToken expiresAt userErrors { field message code retryAfter }
  }
}
"""


async def add_staff(database, username: str, role: str, password: str = PASSWORD) -> None:
    await service_for(database).handle(commands.CreateStaff(username, password, role))


async def staff_login(api, username: str, password: str = PASSWORD) -> dict:
    result = await api.execute(STAFF_LOGIN, {"username": username, "password": password})
    assert "errors" not in result, result
    return result["data"]["staffLogin"]


async def staff_token(api, database, username: str, role: str) -> str:
    await add_staff(database, username, role)
    payload = await staff_login(api, username)
    assert payload["userErrors"] == [], payload
    return payload["accessToken"]
