"""The reward catalog and redemptions. SQL only: `repository` writes (in a unit of work), `queries` reads
(for the API's loaders)."""
