"""Staff accounts, integration API keys and the audit log. SQL only: `repository` writes (in a unit of work), `queries` reads
(for the API's loaders)."""
