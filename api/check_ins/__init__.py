"""check_ins."""
