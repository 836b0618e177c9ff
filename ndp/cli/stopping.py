"""``ndp stopping MATERIAL`` and ``ndp stopping import-srim FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ndp.cli._common import Format, FormatOption, NdpGroup, emit, fail

DEFAULT_ENERGIES_KEV = (10, 20, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 2055, 2500, 2727)


class _DefaultShow(NdpGroup):
    """`ndp stopping Cu` means `ndp stopping show Cu`: a material is not a subcommand name."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DefaultShow,
    no_args_is_help=True,
    help="Stopping powers and ranges of the alpha and the triton in a material.\n\n"
    "ndp stopping MATERIAL [options] prints them; ndp stopping import-srim FILE adds a SRIM table.",
)


def _energies(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise fail(f"--energies: expected comma-separated energies in keV, got {text!r}") from None
    if not values or any(not (0 < v <= 4000) for v in values):
        raise fail(f"--energies: expected energies in keV between 0 and 4000, got {text!r}")
    return values


@app.command("show")
def show(
    material: Annotated[
        str | None,
        typer.Argument(
            help="Element (Cu), formula (Li7La3Zr2O12), named material (LLZO, Kapton, 'stainless steel') "
            "or an imported SRIM name.",
            show_default=False,
        ),
    ] = None,
    particle: Annotated[
        str, typer.Option("--particle", "-p", help="alpha, triton or both.")
    ] = "both",
    density: Annotated[
        float | None,
        typer.Option("--density", "-d", help="Density, g/cm3 (overrides the material's)."),
    ] = None,
    energies: Annotated[
        str | None,
        typer.Option(
            "--energies",
            "-e",
            help="Comma-separated energies, keV (default: 10 keV up to the birth energy).",
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            "-m",
            help="auto (NIST's compound table where it has one, else corrected), corrected "
            "(Bragg's rule with condensed-phase H, C, N, O, F) or bragg (plain Bragg's rule).",
        ),
    ] = "auto",
    list_: Annotated[
        bool, typer.Option("--list", help="List the named materials and exit.")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Print stopping power (electronic, nuclear; keV/µm) and CSDA range (µm) vs energy.

    The table's header lines name the method behind the electronic stopping of each particle.
    """
    import pandas as pd

    from ndp.physics.materials import Material, named_materials
    from ndp.physics.stopping import get_particle

    if list_:
        rows = named_materials()
        emit(pd.DataFrame(rows, columns=["name", "formula", "density_g_cm3", "description"]), fmt)
        return
    if material is None:
        raise fail("MATERIAL: give a material (e.g. Cu, LLZO, Li7La3Zr2O12) or --list")
    mat = Material(material, density, stopping=method)
    names = ["alpha", "triton"] if particle == "both" else [get_particle(particle).name]
    wanted = _energies(energies)
    rows = []
    notes = [
        f"{mat.name}: {mat.formula}, {mat.density_g_cm3:g} g/cm3, {mat.atoms_cm3:.4g} atoms/cm3, "
        f"Li {mat.li_atoms_cm3:.4g} /cm3 ({mat.li_density_rel:.3g} of Li metal)",
        f"stopping method: {mat.stopping_method} (--method {method})",
    ]
    for name in names:
        p = get_particle(name)
        es = wanted or [e for e in DEFAULT_ENERGIES_KEV if e <= p.energy_keV]
        se, sn = mat.stopping(p, es)
        rng = mat.range_um(p, es)
        rows += [
            (name, e, float(a), float(b), float(r))
            for e, a, b, r in zip(es, se, sn, rng, strict=True)
        ]
        notes.append(
            f"{name}: {mat.stopping_source(p)}; range of the {p.energy_keV:g} keV {name}: "
            f"{float(mat.range_um(p)):.4g} µm"
        )
    df = pd.DataFrame(
        rows,
        columns=["particle", "energy_keV", "S_electronic_keV_um", "S_nuclear_keV_um", "range_um"],
    )
    emit(df, fmt, notes=notes)


@app.command("import-srim")
def import_srim(
    file: Annotated[
        Path,
        typer.Argument(
            help="A SRIM / SR Module stopping table (SR_OUTPUT.txt).", show_default=False
        ),
    ],
    fmt: FormatOption = Format.table,
) -> None:
    """Read a SRIM stopping table and print it in ndp's units, with the run-file line that uses it.

    A run file names its SRIM tables by path (``srim = ["FILE"]`` in a layer), so that it means
    the same on every machine and the tables are hashed with the other inputs."""
    import pandas as pd

    from ndp.physics.srim import particle_of, read_srim

    table = read_srim(file)
    z, m = table.ion_z, table.ion_mass_u
    label = {2: "alpha"}.get(z, "triton" if z == 1 and m > 2 else "proton" if z == 1 else f"Z={z}")
    df = pd.DataFrame(
        {
            "particle": label,
            "energy_keV": table.energy_keV,
            "S_electronic_keV_um": table.electronic_keV_um,
            "S_nuclear_keV_um": table.nuclear_keV_um,
            "range_um": table.range_um,
        }
    )
    comp = ", ".join(f"{k} {v:.3g}" for k, v in table.composition.items())
    notes = [
        f"{file}: ion Z = {z} ({m:g} u) in {comp}{' (gas)' if table.gas else ''}; "
        f"{table.density_g_cm3:g} g/cm3; stopping converted from {table.stopping_units} by the "
        "file's own factors; range_um is SRIM's projected range"
    ]
    notes.append(
        f"in a run file, the {particle_of(table)}'s stopping in a layer: srim = [\"{file.resolve()}\"] "
        "(with material = ..., or alone for the file's own target)"
    )
    emit(df, fmt, notes=notes)
