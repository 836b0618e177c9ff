"""An independent operando NDP simulator for testing ``ndp`` on data it did not make.

Nothing here imports, reads or copies ``ndp`` or its stopping tables: stopping powers come from
``pycatima`` (SRIM-95 type low-energy electronic stopping plus ZBL nuclear stopping), masses and
formulae from ``periodictable``, and the rest from the physics written out in
:mod:`tests.independent.simulator`. File formats are written by :mod:`tests.independent.writers`.
"""
