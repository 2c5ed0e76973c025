"""Calibration and validation: fit scenario parameters to published figures with ABC-SMC.

``spec`` reads calibration files, ``targets`` computes the figures a run produces,
``fit`` runs pyabc's ABC-SMC over scenario overrides, ``report`` writes the results and
``commands`` adds ``clickfarm calibrate`` to the command line. See docs/calibration.md.
"""
