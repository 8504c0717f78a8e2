"""Members: their accounts, WeChat identities, phone numbers (sealed), profile tasks, tier gifts and growth. SQL only: `repository` writes (in a unit of work), `queries` reads
(for the API's loaders)."""
