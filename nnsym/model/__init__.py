r"""Layer 4, model: networks and their correlators.

A :class:`~nnsym.Network` :math:`\phi(x)=\sum_{i\le N} a_i h_i(x)` with its parameter laws,
the recognisers of neuron forms (e.g. :math:`F(b)\cos(b\cdot x + c)`), the deep-network
specification, the zoo of built-in networks, and the :class:`~nnsym.Correlator` objects
:math:`G^{(n)}` they derive through the engine and evaluate through the numeric layer.
"""
