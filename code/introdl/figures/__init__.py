"""Figures of the book: the plotting style, diagram primitives, and one module per
chapter with its ``plot_*`` and ``draw_*`` functions. Imports the core and the
experiments; nothing imports it but the chapters."""
