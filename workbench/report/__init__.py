"""The dossier: render a :class:`workbench.study.pipeline.MabelRun` as HTML (interactive) and
PDF (printed from the same HTML), with the decision summary first.
"""
