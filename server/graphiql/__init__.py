"""GraphiQL, served by the app from its own files (`vendor/`, fetched once by tools/vendor_graphiql.py
at pinned versions, with their licences): no CDN, so it works offline and in mainland China. Its
editor opens on the operations the member app sends."""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
GRAPHIQL_FILES = HERE / "vendor"
MEMBER_APP_OPERATIONS = HERE.parent.parent / "operations" / "member-app.graphql"
INTRODUCTION = """# Loyalty GraphiQL. Sign in with LoginWithWeChat (the code "demo-member" is the
# demo member), then paste into the Headers tab below:
#   {"Authorization": "Bearer <accessToken>"}
# Integrations send {"X-API-Key": "<key>"}. Below, the operations the member
# app sends (operations/member-app.graphql): ▶ picks one.

"""


def graphiql_page() -> str:
    operations = MEMBER_APP_OPERATIONS.read_text() if MEMBER_APP_OPERATIONS.exists() else \
        "query MemberHome {\n  me {\n    memberNo\n    pointsBalance\n  }\n}\n"
    page = (HERE / "index.html").read_text()
    # JSON inside a <script>: "</" must not close the element early.
    return page.replace("__DEFAULT_QUERY__", json.dumps(INTRODUCTION + operations).replace("</", "<\\/"))
