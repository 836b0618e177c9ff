"""Layer stacks: building, validation, repr and pickling."""

from __future__ import annotations

import pickle

import pytest

from ndp import Material
from ndp.errors import StackError
from ndp.physics.materials import Layer


def test_stack_reads_like_the_sample():
    cu, zno, li = Material("Cu"), Material("ZnO"), Material("Li")
    stack = cu(10.0) | zno(0.1) | li(40.0, profiled=True) | Material("PEO")(100.0)
    assert len(stack) == 4
    assert stack.profiled_index == 2
    assert [layer.material.name for layer in stack.window] == ["Cu", "ZnO"]
    assert stack.profiled.thickness_um == 40.0


def test_repr_round_trip_and_pickle():
    stack = Material("Cu")(10.0, name="window") | Material("Li")(40.0, profiled=True)
    ns = {"Material": Material}
    assert eval(repr(stack), ns) == stack
    assert pickle.loads(pickle.dumps(stack)) == stack


def test_two_profiled_layers():
    li = Material("Li")
    with pytest.raises(StackError, match="exactly one layer may be profiled, got 2"):
        li(1.0, profiled=True) | li(2.0, profiled=True)


def test_no_profiled_layer():
    stack = Material("Cu")(1.0) | Material("Li")(2.0)
    with pytest.raises(StackError, match="no layer is profiled"):
        stack.to_array("alpha")


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan"), "thick"])
def test_non_positive_thickness(t):
    with pytest.raises(StackError, match="thickness_um must be"):
        Layer(Material("Cu"), t)


def test_compiled_stack_is_cached():
    stack = Material("Cu")(1.0) | Material("Li")(20.0, profiled=True)
    assert stack.to_array("alpha") is stack.to_array("alpha")
    same = Material("Cu")(1.0) | Material("Li")(20.0, profiled=True)
    assert same.to_array("alpha") is stack.to_array("alpha")
