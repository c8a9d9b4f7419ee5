"""``inspect_plan``."""
