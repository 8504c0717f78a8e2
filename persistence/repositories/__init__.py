"""Repositories: the SQL behind the domain's ports, one module per area."""
