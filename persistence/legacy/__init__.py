"""Legacy points imported from the old system's files (`domain.legacy_points`). SQL only."""
