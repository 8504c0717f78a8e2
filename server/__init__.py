"""The processes: the ASGI app and its HTTP edge, the CLI, the worker, settings, demo data. They put
the GraphQL API (`api`), the rules (`domain`) and the storage (`persistence`) together."""
