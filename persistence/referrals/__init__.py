"""Referrals (邀请有礼). SQL only: `repository` writes (in a unit of work), `queries` reads (for the API's loaders)."""
