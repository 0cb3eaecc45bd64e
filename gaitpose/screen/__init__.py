"""Screening one walk: from a video or a Sequence to a quality-gated, calibrated verdict and a
self-contained report (``gaitpose screen``).

Modules, one step each: :mod:`~gaitpose.screen.walks` (inputs, reading a walk),
:mod:`~gaitpose.screen.gate` (the quality gate), :mod:`~gaitpose.screen.predict` (the model's
answer and the parts that drove it), :mod:`~gaitpose.screen.reference` (features against a
reference), :mod:`~gaitpose.screen.figures` (images), :mod:`~gaitpose.screen.report` (the HTML),
:mod:`~gaitpose.screen.run` (the command's loop and its outputs).
"""
