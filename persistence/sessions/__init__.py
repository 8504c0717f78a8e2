"""Sessions and their refresh tokens. SQL only: `repository` writes (in a unit of work), `queries` reads
(for the API's loaders)."""
