"""Layer stacks, listed from the detector side inwards, as the sample is built.

>>> from ndp import Material
>>> cu, li = Material("Cu"), Material("Li")
>>> stack = cu(10.0, name="Cu current collector") | li(40.0, profiled=True)
>>> stack.profiled.material.name
'Li'
>>> [layer.thickness_um for layer in stack.window]
[10.0]

One layer is *profiled*: it holds the Li whose depth profile is measured, and depth 0 is its
detector-side surface. The layers before it (window, current collector, coatings) only slow the
particles down; layers behind it do not matter for what reaches the detector.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ndp.errors import StackError
from ndp.physics.materials import Material

__all__ = ["Layer", "Stack"]


@dataclass(frozen=True)
class Layer:
    """A homogeneous layer.

    Parameters
    ----------
    material : Material
    thickness_um : float
        Thickness, µm (> 0).
    profiled : bool
        Whether this is the layer whose Li is profiled.
    name : str, optional
    """

    material: Material
    thickness_um: float
    profiled: bool = False
    name: str | None = None

    def __post_init__(self):
        if not isinstance(self.material, Material):
            raise StackError(
                f"layer {self.name or ''}: material must be a Material, got {self.material!r}"
            )
        try:
            t = float(self.thickness_um)
        except (TypeError, ValueError):
            raise StackError(
                f"layer {self.label!r}: thickness_um must be a number, got {self.thickness_um!r}"
            ) from None
        if not math.isfinite(t) or t <= 0:
            raise StackError(f"layer {self.label!r}: thickness_um must be > 0, got {t:g}")
        object.__setattr__(self, "thickness_um", t)

    @property
    def label(self) -> str:
        """The layer's name, or its material's."""
        return self.name or self.material.name

    @property
    def areal_1e15_cm2(self) -> float:
        """Areal density of the layer, 10¹⁵ atoms/cm²."""
        return float(self.material.um_to_areal(self.thickness_um))

    def __or__(self, other: Layer | Stack) -> Stack:
        return Stack((self,)) | other

    def __repr__(self) -> str:
        extra = (", profiled=True" if self.profiled else "") + (
            f", name={self.name!r}" if self.name else ""
        )
        return f"{self.material!r}({self.thickness_um!r}{extra})"


@dataclass(frozen=True)
class Stack:
    """Layers from the detector side inwards; exactly one is profiled when it is used.

    Parameters
    ----------
    layers : tuple of Layer
    """

    layers: tuple[Layer, ...]

    def __post_init__(self):
        layers = tuple(self.layers)
        for layer in layers:
            if not isinstance(layer, Layer):
                raise StackError(f"stack: expected Layer objects, got {layer!r}")
        profiled = [i for i, layer in enumerate(layers) if layer.profiled]
        if len(profiled) > 1:
            names = ", ".join(repr(layers[i].label) for i in profiled)
            raise StackError(
                f"stack: exactly one layer may be profiled, got {len(profiled)} ({names})"
            )
        object.__setattr__(self, "layers", layers)

    def __or__(self, other: Layer | Stack) -> Stack:
        if isinstance(other, Layer):
            return Stack((*self.layers, other))
        if isinstance(other, Stack):
            return Stack((*self.layers, *other.layers))
        return NotImplemented

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __repr__(self) -> str:
        return " | ".join(repr(layer) for layer in self.layers) if self.layers else "Stack(())"

    @property
    def profiled_index(self) -> int:
        """Index of the profiled layer; :class:`StackError` if there is none."""
        for i, layer in enumerate(self.layers):
            if layer.profiled:
                return i
        raise StackError(
            "stack: no layer is profiled; mark the layer holding the Li with profiled = true"
        )

    @property
    def profiled(self) -> Layer:
        """The profiled layer."""
        return self.layers[self.profiled_index]

    @property
    def window(self) -> tuple[Layer, ...]:
        """The layers between the profiled region and the detector, detector side first."""
        return self.layers[: self.profiled_index]

    @property
    def region(self) -> tuple[Layer, ...]:
        """The profiled region: the profiled layer and every layer behind it.

        Depth runs from the profiled layer's detector-side surface through all of them, so a Li
        profile can cross interfaces (deposit → electrolyte).
        """
        return self.layers[self.profiled_index :]

    @property
    def region_thickness_um(self) -> float:
        """Total thickness of the profiled region, µm."""
        return float(sum(layer.thickness_um for layer in self.region))

    def matrix_at(self, depth_um) -> list[Layer]:
        """The region layer at each depth (µm)."""
        tops = np.cumsum([0.0] + [layer.thickness_um for layer in self.region])[:-1]
        idx = np.clip(
            np.searchsorted(tops, np.atleast_1d(depth_um), side="right") - 1,
            0,
            len(self.region) - 1,
        )
        return [self.region[i] for i in idx]

    def depth_to_areal(self, depth_um) -> np.ndarray:
        """Depth in the profiled region (µm) → areal density from its surface (10¹⁵ atoms/cm²)."""
        x = np.asarray(depth_um, dtype=float)
        out = np.zeros_like(x)
        top = 0.0
        for layer in self.region:
            inside = np.clip(x - top, 0.0, layer.thickness_um)
            out = out + layer.material.um_to_areal(inside)
            top += layer.thickness_um
        # Past the region's back, continue in its last layer.
        return out + self.region[-1].material.um_to_areal(np.maximum(x - top, 0.0))

    def to_array(self, particle):
        """Compile for one particle: see :class:`ndp.physics.kinematics.CompiledStack` (cached)."""
        from ndp.physics.stopping import get_particle

        return _compile(self, get_particle(particle).name)


@functools.lru_cache(maxsize=64)
def _compile(stack: Stack, particle: str):
    from ndp.physics.kinematics import CompiledStack

    return CompiledStack.from_stack(stack, particle)
