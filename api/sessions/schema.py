"""What the sessions area adds to the schema."""
from __future__ import annotations

import strawberry

from api.sessions.mutations import logout, refresh_access_token


@strawberry.type
class SessionsMutation:
    refresh_access_token = strawberry.mutation(resolver=refresh_access_token)
    logout = strawberry.mutation(resolver=logout)
