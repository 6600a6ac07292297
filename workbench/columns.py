"""Column names of every table the workbench writes.

One constant per column, grouped by table, so that code, tests and docs agree
(the pattern of PEtab's ``C.py``). Each table's documented column list is the
tuple at the end of its group.
"""

from __future__ import annotations

# --- shared -----------------------------------------------------------------
ID = "id"
NAME = "name"
VALUE = "value"
UNIT = "unit"
TIME = "time"

# --- model element tables (Model.compartments, .species, .parameters, ...) ---
KIND = "kind"                    # compartment | species | parameter | reaction | rule | event
CONSTANT = "constant"
COMPARTMENT = "compartment"
INITIAL_AMOUNT = "initial_amount"
INITIAL_CONCENTRATION = "initial_concentration"
ONLY_SUBSTANCE = "has_only_substance_units"
BOUNDARY = "boundary_condition"
INITIAL_ASSIGNMENT = "initial_assignment"
ANNOTATIONS = "annotations"      # MIRIAM references, "qualifier:uri; ..."
SBO = "sbo"
FORMULA = "formula"
REACTANTS = "reactants"
PRODUCTS = "products"
MODIFIERS = "modifiers"
REVERSIBLE = "reversible"
VARIABLE = "variable"
RULE_TYPE = "rule_type"          # assignment | rate | algebraic
TRIGGER = "trigger"
ASSIGNMENTS = "assignments"

COMPARTMENT_COLUMNS = (ID, NAME, VALUE, UNIT, CONSTANT, INITIAL_ASSIGNMENT, ANNOTATIONS, SBO)
SPECIES_COLUMNS = (ID, NAME, COMPARTMENT, VALUE, UNIT, INITIAL_AMOUNT, INITIAL_CONCENTRATION,
                   ONLY_SUBSTANCE, BOUNDARY, CONSTANT, INITIAL_ASSIGNMENT, ANNOTATIONS, SBO)
PARAMETER_COLUMNS = (ID, NAME, VALUE, UNIT, CONSTANT, INITIAL_ASSIGNMENT, ANNOTATIONS, SBO)
REACTION_COLUMNS = (ID, NAME, REACTANTS, PRODUCTS, MODIFIERS, FORMULA, REVERSIBLE, UNIT,
                    ANNOTATIONS, SBO)
RULE_COLUMNS = (VARIABLE, RULE_TYPE, FORMULA, UNIT)
EVENT_COLUMNS = (ID, NAME, TRIGGER, ASSIGNMENTS)

# --- validation findings (workbench.validate) --------------------------------
SEVERITY = "severity"            # fatal | error | warning | info
CATEGORY = "category"            # libSBML check group
ELEMENT = "element"              # id (or element name) the finding is about
LINE = "line"
CODE = "code"                    # libSBML error id
MESSAGE = "message"
FIX = "fix"
COUNT = "count"                  # how many times libSBML reported this same finding
VALIDATION_COLUMNS = (SEVERITY, CATEGORY, CODE, ELEMENT, LINE, MESSAGE, FIX, COUNT)

# --- exposure / response metrics (workbench.compute_metrics) ----------------
OUTPUT = "output"
METRIC = "metric"
INTERVAL = "interval"            # 0-based dosing interval index, or "" for whole run
INTERVAL_START = "interval_start"
INTERVAL_END = "interval_end"
METRIC_COLUMNS = (OUTPUT, METRIC, INTERVAL, INTERVAL_START, INTERVAL_END, VALUE, UNIT)

# --- dose schedule (Regimen.to_frame) ----------------------------------------
DOSE_TIME = "time"
DOSE_AMOUNT = "amount"
DOSE_UNIT = "amount_unit"
DOSE_ROUTE = "route"             # bolus | infusion
DOSE_DURATION = "duration"
DOSE_TARGET = "target"
SCHEDULE_COLUMNS = (DOSE_TIME, DOSE_AMOUNT, DOSE_UNIT, DOSE_ROUTE, DOSE_DURATION, DOSE_TARGET)
