"""The live Textual interface (``watch`` and ``demo``): a thin layer over the headless engine.

Modules here that do not name Textual (``model``, ``present``, ``claims``, ``feed``,
``session``) hold the UI's state and wording so they can be tested without a terminal;
``app``, ``widgets`` and ``screens`` draw them.
"""
