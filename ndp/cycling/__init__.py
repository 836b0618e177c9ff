"""ndp.cycling."""
