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

# --- parameter provenance (workbench.provenance) -----------------------------
# One row per candidate value; the row with chosen=True holds the value the model
# uses. Entry-level fields (rationale, calibration) are filled on the chosen row.
SCOPE = "scope"                  # "" for model-wide ids, the reaction id for local parameters
CHOSEN = "chosen"                # True on the one row per entry whose value the model uses
SOURCE_TYPE = "source_type"      # in vitro human | in vitro animal | in vivo animal | clinical |
                                 # literature | calibrated | assumed | derived
REFERENCE = "reference"          # "doi:10..." / "pmid:123" / URL; several separated by "; "
CITATION = "citation"            # citation text (authors, year, journal, table)
ORGANISM = "organism"            # species of origin of the value (human, cynomolgus, mouse)
ASSAY = "assay"                  # assay or experimental system (SPR, flow cytometry, popPK)
NOTES = "notes"
RATIONALE = "rationale"          # why the chosen value was chosen over the other candidates
INITIAL_VALUE = "initial_value"  # calibration: value before fitting (same unit as the row)
CALIBRATED_VALUE = "calibrated_value"
CALIBRATION_METHOD = "calibration_method"
CALIBRATION_JUSTIFICATION = "calibration_justification"
# priors (workbench.priors): how each candidate informs the prior, and the prior itself
CANDIDATE_USE = "candidate_use"  # same | scaled: <how> | comparison (every row)
PRIOR = "prior"                  # chosen row: lognormal | normal | uniform | loguniform | fixed
PRIOR_CENTRE = "prior_centre"    # chosen row: centre (median; normal: mean); empty: chosen value
PRIOR_SPREAD = "prior_spread"    # chosen row: cv=0.3 | fold=3 | sd=0.2; empty: from candidates
PRIOR_RATIONALE = "prior_rationale"
PROVENANCE_COLUMNS = (KIND, ID, SCOPE, NAME, CHOSEN, VALUE, UNIT, SOURCE_TYPE, REFERENCE,
                      CITATION, ORGANISM, ASSAY, NOTES, RATIONALE, INITIAL_VALUE,
                      CALIBRATED_VALUE, CALIBRATION_METHOD, CALIBRATION_JUSTIFICATION,
                      CANDIDATE_USE, PRIOR, PRIOR_CENTRE, PRIOR_SPREAD, PRIOR_RATIONALE)
# one row per entry with a prior (workbench.core.priors.prior_table)
N_INFORMING = "n_informing"      # same/scaled candidates besides the chosen value
N_COMPARISON = "n_comparison"    # comparison-only candidates (never widen the spread)
FOLD95 = "fold95"                # 95 % of the prior mass within centre / fold95 .. centre x fold95
CANDIDATES = "candidates"        # the candidate values with their use flag, as text
PRIOR_COLUMNS = (ID, UNIT, VALUE, PRIOR, PRIOR_CENTRE, PRIOR_SPREAD, FOLD95, N_INFORMING,
                 N_COMPARISON, CANDIDATES, PRIOR_RATIONALE)
# provenance lint findings (workbench.lint_provenance); CODE is a short word here
PROVENANCE_LINT_COLUMNS = (SEVERITY, CODE, ELEMENT, LINE, MESSAGE, FIX)
# spread of the candidate values of each entry, in the model's unit (candidate_ranges)
LOW = "low"
HIGH = "high"
FOLD = "fold"                    # high / low over positive candidate values
N_CANDIDATES = "n_candidates"
HIGH_UNCERTAINTY = "high_uncertainty"   # fold > 10
CANDIDATE_RANGE_COLUMNS = (KIND, ID, SCOPE, UNIT, VALUE, LOW, HIGH, FOLD, N_CANDIDATES,
                           HIGH_UNCERTAINTY)

# --- SBML export metadata counts (workbench.export_sbml) ---------------------
WHAT = "what"                    # annotations | cv_terms | notes | unit_definitions | sbo_terms
BEFORE = "before"
AFTER = "after"
METADATA_COUNT_COLUMNS = (WHAT, BEFORE, AFTER)

# --- ensembles (workbench.run_ensemble) --------------------------------------
# One row per sample: SAMPLE, the sample's ids, one column per metric (named by
# the metric text, e.g. "max(RO)"; units in attrs["units"]), then STATUS.
SAMPLE = "sample"                # row label of the sample table
STATUS = "status"                # "ok" or "failed: <reason>"
STATUS_OK = "ok"

# --- sensitivity (workbench.sensitivity) -------------------------------------
# parameter space: one row per varied id (ParameterSpace.to_frame / read_parameter_space)
DISTRIBUTION = "distribution"    # uniform | loguniform | normal | lognormal | triangular
NOMINAL = "nominal"              # model value (normal: mean; lognormal: median; triangular: mode)
SD = "sd"                        # normal: standard deviation; lognormal: sd of ln(value)
PARAMETER_SPACE_COLUMNS = (ID, DISTRIBUTION, LOW, HIGH, NOMINAL, FOLD, SD, UNIT)
# index tables: one row per (metric, parameter); OUTPUT and TIME (value(X, t) metrics,
# else NaN) let time-resolved indices be plotted over time; RANK 1 = most influential
PARAMETER = "parameter"
RANK = "rank"
WHERE = "where"                 # where in the decision a sensitivity is computed (QSP MABEL, ladder level k)
SENSITIVITY = "sensitivity"      # local: normalized coefficient d ln(metric) / d ln(parameter)
LOCAL_COLUMNS = (METRIC, OUTPUT, TIME, PARAMETER, NOMINAL, VALUE, UNIT, SENSITIVITY, RANK)
MU = "mu"
MU_STAR = "mu_star"
SIGMA = "sigma"
MU_STAR_CONF = "mu_star_conf"    # half-width of the bootstrap confidence interval of mu_star
MORRIS_COLUMNS = (METRIC, OUTPUT, TIME, PARAMETER, MU, MU_STAR, SIGMA, MU_STAR_CONF, UNIT, RANK)
S1 = "S1"
S1_CONF = "S1_conf"              # half-width of the bootstrap confidence interval
ST = "ST"
ST_CONF = "ST_conf"
SOBOL_COLUMNS = (METRIC, OUTPUT, TIME, PARAMETER, S1, S1_CONF, ST, ST_CONF, RANK)
PARAMETER_1 = "parameter_1"
PARAMETER_2 = "parameter_2"
S2 = "S2"
S2_CONF = "S2_conf"
SOBOL2_COLUMNS = (METRIC, OUTPUT, TIME, PARAMETER_1, PARAMETER_2, S2, S2_CONF)
# Sobol convergence check: the analysis repeated with twice the base sample size
N_BASE = "n"                     # base sample size N (runs: N (D + 2), or N (2 D + 2) with S2)
TOP_PARAMETERS = "top_parameters"        # top parameters by ST at N, "; "-separated
TOP_PARAMETERS_2N = "top_parameters_2n"  # the same at 2 N
STABLE = "stable"                # same top parameters in the same order
MAX_ST_CHANGE = "max_st_change"  # largest |ST(2N) - ST(N)| over the parameters
CONVERGENCE_COLUMNS = (METRIC, N_BASE, TOP_PARAMETERS, TOP_PARAMETERS_2N, STABLE, MAX_ST_CHANGE)

# --- calibration (workbench.petab_problem, workbench.calibrate) --------------
# findings of lint_petab (all at once); TABLE: yaml | model | measurement | condition |
# observable | parameter
TABLE = "table"
CALIBRATION_LINT_COLUMNS = (SEVERITY, CODE, TABLE, ELEMENT, LINE, MESSAGE, FIX)
# calibration record: one row per parameter of the PEtab parameter table; values linear
SCALE = "scale"                  # lin | log | log10 (parameter scale of the optimisation)
LOWER_BOUND = "lower_bound"
UPPER_BOUND = "upper_bound"
ESTIMATED = "estimated"
FINAL_VALUE = "final_value"      # best fit (fixed parameters: the nominal value)
SE_SCALED = "se_scaled"          # standard error in the parameter scale (Fisher information)
CI_LOW = "ci_low"                # 95 % confidence interval (linear values)
CI_HIGH = "ci_high"
CI_METHOD = "ci_method"          # profile | wald
IDENTIFIABLE = "identifiable"    # profile CI bounded on both sides (wald: finite and inside bounds)
AT_BOUND = "at_bound"            # final value within 1e-3 (scaled) of a bound
CALIBRATION_PARAMETER_COLUMNS = (PARAMETER, SCALE, LOWER_BOUND, UPPER_BOUND, ESTIMATED, NOMINAL,
                                 INITIAL_VALUE, FINAL_VALUE, SE_SCALED, CI_LOW, CI_HIGH,
                                 CI_METHOD, IDENTIFIABLE, AT_BOUND)
# multi-start table: one row per start, best first; then one column per estimated parameter
START = "start"
OBJECTIVE_START = "objective_start"  # negative log-posterior at the start point
OBJECTIVE = "objective"              # negative log-posterior at the end point
N_EVALUATIONS = "n_evaluations"
SECONDS = "seconds"
STARTS_COLUMNS = (START, STATUS, OBJECTIVE_START, OBJECTIVE, N_EVALUATIONS, SECONDS, MESSAGE)
# fit table: one row per measurement
OBSERVABLE = "observable"
PREEQUILIBRATION = "preequilibration"
CONDITION = "condition"
MEASUREMENT = "measurement"
SIMULATION = "simulation"
TRANSFORMATION = "transformation"    # lin | log | log10 (observableTransformation)
NOISE = "noise"                      # normal | laplace
RESIDUAL = "residual"                # simulation - measurement, linear
WEIGHTED_RESIDUAL = "weighted_residual"  # (h(sim) - h(meas)) / sigma, h the transformation
NLLH = "nllh"                        # this measurement's negative log-likelihood
FIT_COLUMNS = (OBSERVABLE, PREEQUILIBRATION, CONDITION, TIME, MEASUREMENT, SIMULATION, SIGMA,
               TRANSFORMATION, NOISE, RESIDUAL, WEIGHTED_RESIDUAL, NLLH)
# profile likelihood: one row per profile point
SCALED_VALUE = "scaled_value"
DELTA_OBJECTIVE = "delta_objective"  # objective - best objective
PROFILE_COLUMNS = (PARAMETER, SCALED_VALUE, VALUE, OBJECTIVE, DELTA_OBJECTIVE, STATUS)
SUMMARY_COLUMNS = (WHAT, VALUE)      # key/value summaries (goodness of fit, check-data)

# --- validation against independent data, refinement (workbench.validation_data) ---
# observed data (input): value in `unit`, time in `time_unit` (empty: model time unit)
SUBJECT = "subject"
REGIMEN = "regimen"              # dose text ("0.3 mg/kg iv"), empty for no dose
TIME_UNIT = "time_unit"
LLOQ = "lloq"                    # lower limit of quantification (unit of `value`); NaN: none
OBSERVED_DATA_COLUMNS = (SUBJECT, REGIMEN, OUTPUT, TIME, TIME_UNIT, VALUE, UNIT, LLOQ)
# check table: one row per observation; times in model units, values in `unit`
OBSERVED = "observed"
PREDICTED = "predicted"          # median of the sample's predictions (nominal without samples)
LOWER = "lower"                  # prediction interval at the requested level
UPPER = "upper"
FOLD_ERROR = "fold_error"        # predicted / observed
WITHIN_2FOLD = "within_2fold"
WITHIN_3FOLD = "within_3fold"
INSIDE_BAND = "inside_band"      # observed within [lower, upper]; False flags model revision
CHECK_COLUMNS = (SUBJECT, REGIMEN, OUTPUT, TIME, UNIT, OBSERVED, PREDICTED, LOWER, UPPER,
                 FOLD_ERROR, WITHIN_2FOLD, WITHIN_3FOLD, INSIDE_BAND)
# refinement: prior vs posterior of each sampled parameter, and the re-predicted dose-response
PRIOR_MEDIAN = "prior_median"
PRIOR_LOWER = "prior_lower"
PRIOR_UPPER = "prior_upper"
POSTERIOR_MEDIAN = "posterior_median"
POSTERIOR_LOWER = "posterior_lower"
POSTERIOR_UPPER = "posterior_upper"
REFINED_PARAMETER_COLUMNS = (PARAMETER, PRIOR_LOWER, PRIOR_MEDIAN, PRIOR_UPPER, POSTERIOR_LOWER,
                             POSTERIOR_MEDIAN, POSTERIOR_UPPER)
DOSE_RESPONSE_UPDATE_COLUMNS = (REGIMEN, METRIC, UNIT, PRIOR_LOWER, PRIOR_MEDIAN, PRIOR_UPPER,
                                POSTERIOR_LOWER, POSTERIOR_MEDIAN, POSTERIOR_UPPER)

# --- verification (workbench.verify) -----------------------------------------
# one row per check; STATUS is pass | fail | warn | skip; VALUE is the check's key
# number and LIMIT its acceptance limit (both in UNIT); EVIDENCE states the numbers,
# REASON why a check warned, failed or was skipped; PLOT the file of its small figure
CHECK = "check"
LIMIT = "limit"
EVIDENCE = "evidence"
REASON = "reason"
PLOT = "plot"
VERIFY_COLUMNS = (CHECK, STATUS, VALUE, LIMIT, UNIT, EVIDENCE, REASON, PLOT)
# the dose-response behind the checks: one row per (dose, output, metric)
DOSE = "dose"
VERIFY_DOSE_RESPONSE_COLUMNS = (DOSE, DOSE_UNIT, OUTPUT, METRIC, VALUE, UNIT)

# --- uncertainty propagation (workbench.uncertainty) --------------------------
# parameter distributions: one row per uncertain id; lognormal: NOMINAL is the median
# and SD the sd of ln(value) (CV = sqrt(exp(SD^2) - 1)); normal: mean and sd;
# uniform/loguniform: LOW..HIGH; LOW/HIGH truncate normal and lognormal when set
CV = "cv"
ORIGIN = "origin"                # provenance | user
DISTRIBUTION_COLUMNS = (ID, DISTRIBUTION, NOMINAL, SD, CV, LOW, HIGH, UNIT, ORIGIN)
CORRELATION = "correlation"      # between the normal scores (lognormal: of ln values)
CORRELATION_COLUMNS = (PARAMETER_1, PARAMETER_2, CORRELATION)
# prediction bands: QUANTITY is an output id (time courses, TIME set) or a metric text
# (dose-response, TIME NaN); N_OK the successful samples behind the percentile
QUANTITY = "quantity"
PERCENTILE = "percentile"
N_OK = "n_ok"
BAND_COLUMNS = (REGIMEN, QUANTITY, TIME, PERCENTILE, VALUE, UNIT, N_OK)
# convergence: percentiles from the first half of the samples against all of them;
# SHIFT = largest |value(N) - value(N/2)| over time / largest band width (p_high - p_low)
N_HALF = "n_half"
SHIFT = "shift"
CONVERGED = "converged"
BAND_CONVERGENCE_COLUMNS = (REGIMEN, QUANTITY, PERCENTILE, N_HALF, N_OK, SHIFT, CONVERGED)

# --- alternative model structures (workbench.variants) ------------------------
# one row per (variant, quantity, regimen); REL_DIFF relative to the reference variant
VARIANT = "variant"
REL_DIFF = "rel_diff"
VARIANT_COLUMNS = (VARIANT, QUANTITY, REGIMEN, VALUE, UNIT, REL_DIFF)
# the variants themselves: where each comes from and what it changes
MODEL = "model"
CHANGES = "changes"
VARIANT_SPEC_COLUMNS = (VARIANT, MODEL, DOSE_TARGET, CHANGES)

# --- virtual populations (workbench.population) -------------------------------
# one row per subject: SUBJECT, the covariates (WEIGHT kg, HEIGHT cm, BSA m2, AGE years,
# SEX "F"/"M", then user-defined ones), one column per individual parameter (model
# units), PLAUSIBLE and PREVALENCE_WEIGHT; units in attrs["units"] and, in the CSV,
# in the header ("weight [kg]")
WEIGHT = "weight"
HEIGHT = "height"
BSA = "bsa"
AGE = "age"
SEX = "sex"
PLAUSIBLE = "plausible"          # baseline outputs inside the observed ranges
PREVALENCE_WEIGHT = "prevalence_weight"  # sums to the number of plausible subjects; 0 if not
POPULATION_COLUMNS = (SUBJECT, WEIGHT, HEIGHT, BSA, AGE, SEX, PLAUSIBLE, PREVALENCE_WEIGHT)
DOSE_SCALE = "dose_scale"        # run_ensemble: per-sample factor on every dose of the regimen

# --- dose-exposure-response across regimens (workbench.regimens) -------------
# per-subject table: REGIMEN, SUBJECT, covariates, PREVALENCE_WEIGHT, one column per
# metric ("cmax_ss(Cfree)", ...; units in attrs["units"]), STATUS
SUBGROUP = "subgroup"            # "all", "weight [60, 90)", "sex F", ...
MEAN = "mean"
GEO_CV = "geo_cv"                # sqrt(exp(var(ln x)) - 1) over positive values
MEDIAN = "median"
LEVEL = "level"                  # coverage of [LOWER, UPPER], e.g. 0.9
REGIMEN_SUMMARY_COLUMNS = (REGIMEN, SUBGROUP, METRIC, UNIT, N_OK, MEAN, GEO_CV, LOWER, MEDIAN,
                           UPPER, LEVEL)
# overlap of exposure between two regimens (LOW: the lower, earlier in the list)
REGIMEN_LOW = "regimen_low"
REGIMEN_HIGH = "regimen_high"
ADJACENT = "adjacent"            # consecutive in the regimen list
LOW_LOWER = "low_lower"          # [LOW_LOWER, LOW_UPPER]: the lower regimen's interval
LOW_UPPER = "low_upper"
HIGH_LOWER = "high_lower"
HIGH_UPPER = "high_upper"
INTERVAL_OVERLAP = "interval_overlap"  # |intersection| / |union| of the two intervals
P_EXCEED_MEDIAN = "p_exceed_median"    # P(lower-regimen subject > median of the higher)
OVERLAP_COLUMNS = (METRIC, UNIT, REGIMEN_LOW, REGIMEN_HIGH, ADJACENT, LEVEL, LOW_LOWER,
                   LOW_UPPER, HIGH_LOWER, HIGH_UPPER, INTERVAL_OVERLAP, P_EXCEED_MEDIAN)
# probability of target attainment (efficacy) or of exceeding a limit (safety)
CRITERION = "criterion"          # "ctrough_ss(RO_CD3) >= 0.9"
THRESHOLD = "threshold"
PROBABILITY = "probability"      # CI_LOW/CI_HIGH: Wilson 95 % interval (effective n if weighted)
ATTAINMENT_COLUMNS = (REGIMEN, SUBGROUP, CRITERION, KIND, METRIC, THRESHOLD, UNIT, N_OK,
                      PROBABILITY, CI_LOW, CI_HIGH)
# share of subjects outside an exposure window (flat vs body-size dosing)
BELOW = "below"
ABOVE = "above"
OUTSIDE = "outside"
WINDOW_COLUMNS = (REGIMEN, SUBGROUP, METRIC, UNIT, LOW, HIGH, N_OK, BELOW, ABOVE, OUTSIDE)

# --- QSP MABEL (workbench.qsp_mabel) -------------------------------------------
# one row per minimal-effect definition; DOSE is the nominal MABEL (NaN: not reached),
# MEDIAN/LOWER/UPPER its distribution under parameter uncertainty (inf: not reached)
EFFECT = "effect"
DEFINITION = "definition"
BASELINE = "baseline"
N_SAMPLES = "n_samples"
N_NOT_REACHED = "n_not_reached"
D10 = "d10"
D50 = "d50"
STEEPNESS_RATIO = "d50_over_d10"
HILL = "hill"                    # Hill coefficient equivalent: ln 9 / ln(D50/D10)
SLOPE = "slope"                  # local d ln(effect change) / d ln(dose) at the MABEL
STEEPNESS = "steepness"          # steep | shallow | undetermined
TEXT = "text"
QSP_MABEL_COLUMNS = (EFFECT, DEFINITION, THRESHOLD, UNIT, BASELINE, STATUS, DOSE, DOSE_UNIT,
                     MEDIAN, LOWER, UPPER, N_SAMPLES, N_NOT_REACHED, D10, D50, STEEPNESS_RATIO,
                     HILL, SLOPE, STEEPNESS, TEXT)
# nominal and percentile metric per grid dose
QSP_DOSE_RESPONSE_COLUMNS = (DOSE, DOSE_UNIT, METRIC, UNIT, NOMINAL, LOWER, MEDIAN, UPPER)

# --- dose decision (workbench.decision) ------------------------------------------
# decision table: one row per reasoning step; SENTENCE is the report's sentence
STEP = "step"
ITEM = "item"
RULE = "rule"
SENTENCE = "sentence"
DECISION_COLUMNS = (STEP, ITEM, VALUE, UNIT, RULE, SENTENCE)
# escalation ladder: one row per dose level; *_LOWER/*_UPPER the uncertainty interval
LADDER_LEVEL = "dose_level"       # 1 = starting dose
FOLD_FROM_PREVIOUS = "fold_from_previous"
EXPOSURE = "exposure"
EXPOSURE_LOWER = "exposure_lower"
EXPOSURE_UPPER = "exposure_upper"
EXPOSURE_UNIT = "exposure_unit"
OCCUPANCY = "occupancy"
OCCUPANCY_LOWER = "occupancy_lower"
OCCUPANCY_UPPER = "occupancy_upper"
EFFECT_LOWER = "effect_lower"
EFFECT_UPPER = "effect_upper"
EFFECT_UNIT = "effect_unit"
P_RISK = "p_risk"                 # P(risk metric > risk threshold) over the samples
EXPOSURE_OVERLAP = "exposure_overlap"   # |intersection| / |union| of 5-95 % exposure vs previous
P_ACTIVE = "p_active"             # share of the samples reaching the minimal active effect
LADDER_COLUMNS = (LADDER_LEVEL, DOSE, DOSE_UNIT, FOLD_FROM_PREVIOUS, EXPOSURE, EXPOSURE_LOWER,
                  EXPOSURE_UPPER, EXPOSURE_UNIT, OCCUPANCY, OCCUPANCY_LOWER, OCCUPANCY_UPPER,
                  EFFECT, EFFECT_LOWER, EFFECT_UPPER, EFFECT_UNIT, RULE, P_RISK,
                  EXPOSURE_OVERLAP, P_ACTIVE)
# candidate starting doses: risk at the first level against patients below the active range
EXPECTED_BELOW_ACTIVE = "expected_patients_below_active"
LEVELS_BELOW_ACTIVE = "levels_below_active_range"
N_LEVELS = "n_levels"
DESIGN = "design"
TRADEOFF_COLUMNS = (NAME, DOSE, P_RISK, EXPECTED_BELOW_ACTIVE, LEVELS_BELOW_ACTIVE, N_LEVELS,
                    DESIGN)
# MABEL distributions of a study with a virtual population (workbench.mabel_population)
SPREAD = "spread"                # parameter uncertainty | population variability | uncertainty and variability
MABEL_DISTRIBUTION_COLUMNS = (EFFECT, SPREAD, N_SAMPLES, N_NOT_REACHED, LOWER, MEDIAN, UPPER,
                              DOSE, DOSE_UNIT)  # DOSE: the nominal MABEL; LOWER/UPPER: 5th/95th
# share of subjects reaching each effect at the first ladder levels (PROBABILITY with Wilson CI)
N_REACHED = "n_reached"
REACH_COLUMNS = (LADDER_LEVEL, DOSE, DOSE_UNIT, EFFECT, DEFINITION, N_SAMPLES, N_REACHED,
                 PROBABILITY, CI_LOW, CI_HIGH)
# traditional MABEL estimates (workbench.mabel.decision.traditional_estimates)
METHOD = "method"
INPUTS = "inputs"
TRADITIONAL_COLUMNS = (NAME, METHOD, DOSE, DOSE_UNIT, INPUTS)

# --- a study's calibration and validation data (workbench.study_data) -----------
# validation summary: one row per observed output, then "all" (UNIT empty); counts of
# observations, of those with a prediction band, of those inside it; COVERAGE the
# fraction inside (NaN without a band), LEVEL its nominal value; WITHIN_2FOLD and
# WITHIN_3FOLD fractions of the observations with a fold error; GMFE the geometric mean
# fold error of the median prediction
ALL_OUTPUTS = "all"
N_OBSERVATIONS = "n_observations"
N_WITH_BAND = "n_with_band"
N_INSIDE_BAND = "n_inside_band"
COVERAGE = "coverage"
GMFE = "gmfe"
VALIDATION_SUMMARY_COLUMNS = (OUTPUT, UNIT, N_OBSERVATIONS, N_WITH_BAND, N_INSIDE_BAND, LEVEL,
                              COVERAGE, WITHIN_2FOLD, WITHIN_3FOLD, GMFE)
# calibration summary: one row per estimated parameter; NOMINAL the PEtab parameter table's
# value (before calibration), INITIAL_VALUE the best start's start point, FINAL_VALUE the
# fit, CI_LOW..CI_HIGH its 95 % interval (CI_METHOD profile | wald); values in UNIT, the
# parameter's unit in the problem's model (empty: not a model parameter, e.g. noise)
CALIBRATION_SUMMARY_COLUMNS = (PARAMETER, UNIT, SCALE, NOMINAL, INITIAL_VALUE, FINAL_VALUE,
                               CI_LOW, CI_HIGH, CI_METHOD, IDENTIFIABLE, AT_BOUND)
# StudyData.to_frame: one row per analysis run (calibration | validation)
ANALYSIS = "analysis"
FILE = "file"
VERDICT = "verdict"
STUDY_DATA_COLUMNS = (ANALYSIS, FILE, VERDICT)

# --- retrospective benchmark on reference compounds (workbench.benchmark) -----------
# one row per reference molecule; every dose in BENCH_DOSE_UNIT (ug/kg, flat doses over
# the study's body weight); RATIO = proposed / historical start; MARGIN = first toxic dose /
# proposed start; *_FOLD_ERROR = predicted / observed (NaN: nothing published); LADDER_LEVELS
# the levels from the proposed start to the historical target dose (">" when extrapolated);
# SAFE/NOT_WASTEFUL/INFORMATIVE: "yes" | "no" | "n/a"; WHY the failing criterion and cause
MOLECULE = "molecule"
FIH_YEAR = "fih_year"
BENCH_DOSE_UNIT = "dose_unit"
PROPOSED_START = "proposed_start"
HISTORICAL_START = "historical_start"
RATIO = "ratio"
FIRST_TOXIC_DOSE = "first_toxic_dose"
FIRST_TOXIC_KIND = "first_toxic_kind"
MARGIN = "margin"
REQUIRED_MARGIN = "required_margin"
PK_FOLD_ERROR = "pk_fold_error"
IL6_FOLD_ERROR = "il6_fold_error"
TARGET_DOSE = "target_dose"
LADDER_LEVELS = "ladder_levels"
CUMULATIVE_MARGIN = "cumulative_margin"
SAFE = "safe"
NOT_WASTEFUL = "not_wasteful"
INFORMATIVE = "informative"
WHY = "why"
BENCHMARK_COLUMNS = (MOLECULE, FIH_YEAR, BENCH_DOSE_UNIT, PROPOSED_START, HISTORICAL_START, RATIO,
                     FIRST_TOXIC_DOSE, FIRST_TOXIC_KIND, MARGIN, REQUIRED_MARGIN, PK_FOLD_ERROR,
                     IL6_FOLD_ERROR, TARGET_DOSE, LADDER_LEVELS, CUMULATIVE_MARGIN, SAFE,
                     NOT_WASTEFUL, INFORMATIVE, VERDICT, WHY)
# outcomes.csv of a reference molecule (clinical answers, never model inputs): ITEM one of
# fih_year | fih_start | dose_level | first_toxic_dose | rp2d | first_dose_cmax |
# first_dose_il6; DOSE/DOSE_UNIT the dose the row refers to; VALUE/UNIT the observation
OUTCOME_SOURCE = "source"
OUTCOME_YEAR = "year"
OUTCOME_DETAIL = "detail"
# the ids of the row's sources, ';'-separated: pmid:N, doi:10...., first author and year
# ("Hosseini 2020"); a provenance row citing one of them is an outcome leak
# (workbench.benchmark_leaks)
OUTCOME_SOURCE_ID = "source_id"
OUTCOME_COLUMNS = (ITEM, DOSE, "dose_unit", VALUE, UNIT, OUTCOME_DETAIL, OUTCOME_SOURCE,
                   OUTCOME_SOURCE_ID, OUTCOME_YEAR)
# criteria counts: one row per criterion
N_MET = "n_met"
N_FAILED = "n_failed"
N_NOT_APPLICABLE = "n_not_applicable"
BENCHMARK_COUNT_COLUMNS = (CRITERION, N_MET, N_FAILED, N_NOT_APPLICABLE)
# --- step-up (priming) regimens (workbench.stepup) -------------------------------
# one row per schedule x administration: ADMINISTRATION 1 = the first dose; TIME its start
# (model time unit); FULL_DOSE: the dose is the target (full) dose; RISK_* the peak of the
# risk output after this administration (before the next one): NOMINAL, MEDIAN, UPPER (95th
# percentile) over the samples; PROBABILITY (Wilson CI_LOW..CI_HIGH) that it exceeds LIMIT
SCHEDULE = "schedule"
ADMINISTRATION = "administration"
FULL_DOSE = "full_dose"
LIMIT = "limit"
STEPUP_ADMIN_COLUMNS = (SCHEDULE, ADMINISTRATION, TIME, DOSE, DOSE_UNIT, FULL_DOSE, METRIC, UNIT,
                        NOMINAL, MEDIAN, UPPER, LIMIT, N_OK, PROBABILITY, CI_LOW, CI_HIGH)
# one row per schedule: when the full dose is first given (FIRST_FULL_TIME, model time
# unit), the peak after it (nominal and 95th percentile) against the same dose given
# without priming (NAIVE_*), REDUCTION = 1 - primed / naive (nominal); WORST_PROBABILITY the
# largest PROBABILITY over the administrations; EXPOSURE_RATIO the median peak exposure
# after the first full dose over that of the unprimed dose; REACHES_TARGET: ratio at least
# the study's target fraction; RANK by WORST_PROBABILITY then WORST_UPPER (NaN: not ranked)
N_ADMINISTRATIONS = "n_administrations"
FIRST_FULL_TIME = "first_full_time"
FIRST_FULL_NOMINAL = "first_full_nominal"
FIRST_FULL_UPPER = "first_full_upper"
NAIVE_NOMINAL = "naive_nominal"
NAIVE_UPPER = "naive_upper"
REDUCTION = "reduction"
WORST_PROBABILITY = "worst_probability"
WORST_UPPER = "worst_upper"
EXPOSURE_RATIO = "exposure_ratio"
REACHES_TARGET = "reaches_target"
STEPUP_SUMMARY_COLUMNS = (SCHEDULE, REGIMEN, N_ADMINISTRATIONS, FIRST_FULL_TIME,
                          FIRST_FULL_NOMINAL, FIRST_FULL_UPPER, NAIVE_NOMINAL, NAIVE_UPPER,
                          REDUCTION, WORST_PROBABILITY, WORST_UPPER, EXPOSURE_RATIO,
                          REACHES_TARGET, RANK)
