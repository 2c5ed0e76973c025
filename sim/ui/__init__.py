"""The browser app (``clickfarm ui``): explore, compare and present scenarios.

Only ``sim/ui/app.py`` and the modules it alone uses import Solara; everything else in
this package is plain Python that the tests and the benchmark drive directly. The model
core never imports anything from here.
"""
