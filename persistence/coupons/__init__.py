"""Coupons held by members, and the monthly claims. SQL only: `repository` writes (in a unit of work), `queries` reads
(for the API's loaders)."""
