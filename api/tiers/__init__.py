"""Tiers and their benefits: the ladder growth value climbs."""
