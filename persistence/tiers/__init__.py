"""The program's tiers and benefits as the database holds them. SQL only: `repository` writes (in a unit of work), `queries` reads
(for the API's loaders)."""
