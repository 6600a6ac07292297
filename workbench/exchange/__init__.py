"""Exchange with other tools and the agency: SBML Level 3 export with units and
annotations (``sbml``), dosing as SBML events (``events``), SED-ML, COMBINE archives.
"""
