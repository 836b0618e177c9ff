"""ndp.spectra."""
