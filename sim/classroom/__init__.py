"""Live classroom sessions: students drive agents of one shared model (issue 12).

``sim/classroom/session.py`` is the engine (pure Python, no web code); the web server and
pages build on its :class:`~sim.classroom.session.ClassSession`.
"""
