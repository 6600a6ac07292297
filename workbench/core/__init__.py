"""Core: reading inputs safely, units, the model, doses, provenance and priors, parameter spaces.

The bottom of the pipeline: nothing here runs a simulation. Modules: ``model`` (load SBML,
Antimony, COMBINE), ``sbml_checks`` (every libSBML consistency check, the ``validate`` verb),
``units``, ``dosing`` (the regimen grammar), ``provenance`` and ``priors`` (where every number
came from and the distribution it is drawn from), ``parameter_space``, ``stoichiometry``,
``textin``/``archive``/``model_gate``/``limits``/``input_checks`` (hostile inputs are refused
before any library recurses), ``plots`` (shared figure helpers), ``progress``, ``stats``.
"""
