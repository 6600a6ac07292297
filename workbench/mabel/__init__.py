"""MABEL: traditional estimates (``traditional``), the QSP MABEL (``qsp``) alone and in a
virtual population, the dose decision, its escalation ladder, step-up regimens and the
analyses that inform the decision.
"""
