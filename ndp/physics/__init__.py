"""ndp.physics."""
