"""``ndp calibrate SPECTRUM``: channel → energy calibration from a reference spectrum."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ndp.cli._common import Format, FormatOption, emit, fail


def _peaks(text: str):
    energies, channels = [], []
    for item in text.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            if ":" in item:
                ch, e = item.split(":")
                channels.append(float(ch))
                energies.append(float(e))
            else:
                energies.append(float(item))
        except ValueError:
            raise fail(f"--peaks: expected keV values or channel:keV pairs, got {item!r}") from None
    if channels and len(channels) != len(energies):
        raise fail("--peaks: give channel:keV for every peak, or for none")
    if len(energies) < 2:
        raise fail("--peaks: give at least two peaks")
    return energies, (channels or None)


def calibrate(
    spectrum: Annotated[
        list[Path],
        typer.Argument(help="Reference spectrum file(s); frames are summed.", show_default=False),
    ],
    standard: Annotated[
        str | None,
        typer.Option(
            "--standard",
            "-s",
            help="b10 (840/1013/1472/1776 keV peaks) or li6 (2055/2727 keV edges).",
        ),
    ] = None,
    peaks: Annotated[
        str | None,
        typer.Option(
            "--peaks",
            help="Known peaks: keV values (matched to the strongest peaks) or channel:keV pairs, comma-separated.",
        ),
    ] = None,
    order: Annotated[int, typer.Option("--order", help="1 (linear) or 2 (quadratic).")] = 1,
    alpha_only: Annotated[
        bool,
        typer.Option(
            "--alpha-only", help="b10: use the alpha peaks only (no 7Li pulse-height defect)."
        ),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Fit keV = c0 + c1·channel (+ c2·channel²) to a ¹⁰B or ⁶Li standard or to given peaks."""
    from ndp.spectra.calibration import fit_b10, fit_li6, fit_peaks
    from ndp.spectra.io import read_spectra

    if (standard is None) == (peaks is None):
        raise fail("give either --standard b10|li6 or --peaks")
    if order not in (1, 2):
        raise fail(f"--order: expected 1 or 2, got {order}")
    ds = read_spectra(spectrum)
    if standard is not None:
        key = standard.lower()
        if key == "b10":
            result = fit_b10(ds, order=order, alpha_only=alpha_only)
        elif key == "li6":
            result = fit_li6(ds)
        else:
            raise fail(f"--standard: expected b10 or li6, got {standard!r}")
    else:
        energies, channels = _peaks(peaks)
        result = fit_peaks(ds, energies, channels=channels, order=order)
    coeffs = ", ".join(f"{c:.6g}" for c in result.calibration.coefficients)
    notes = [
        f"{len(spectrum)} file(s), {ds.sizes['frame']} frame(s), {int(ds.counts.sum())} counts",
        f"calibration = [ {coeffs} ]   # keV = c0 + c1*channel"
        + (" + c2*channel^2" if order == 2 else ""),
        f"detector resolution (FWHM): {result.fwhm_keV:.1f} keV",
    ]
    emit(result.points, fmt, notes=notes)
