"""The libRoadRunner behaviours the engine works around, checked on the raw library.

Each test asserts that the pitfall is still there in the installed libRoadRunner
(2.10 on Python 3.11, 2.11 on 3.12+). When a release fixes one, its test fails:
then the workaround named in the message can be removed (or kept for the older
version only). The workbench's own behaviour is tested in test_engine_pitfalls.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

roadrunner = pytest.importorskip("roadrunner")
antimony = pytest.importorskip("antimony")


def _rr(text: str):
    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(text) >= 0
    return roadrunner.RoadRunner(antimony.getSBMLString(antimony.getMainModuleName()))


def test_reset_skips_parameter_initial_assignments():
    r = _rr("model m\n compartment c = 1\n species S in c\n S = 2 * Nt\n Nt = 4\n"
            " bet = 2 / Nt\n J: S -> ; bet * S\nend")
    r.setValue("Nt", 8)
    r.reset()
    # species initial assignment re-evaluated (S = 16), the parameter's not (bet stays 0.5)
    assert r.getValue("S") == 16.0
    assert r.getValue("bet") == 0.5, (
        f"libRoadRunner {roadrunner.__version__} now re-evaluates parameter initial "
        "assignments on reset(): workbench._initial_assignments can go for this version")


def test_global_parameter_init_values_binding_is_broken():
    r = _rr("model m\n p = 1\n x = 0\n x' = p\nend")
    with pytest.raises(TypeError):
        r.model.getGlobalParameterInitValues()  # workbench._engine reads init(p) instead


def test_model_ids_become_class_attributes():
    # run in a child: the pitfall deletes RoadRunner.reset for the whole process
    code = ("import antimony, roadrunner\n"
            "antimony.loadAntimonyString('model r\\n compartment c = 1\\n species S in c = 1\\n"
            " reset = 0.5\\n J: S -> ; reset * S\\nend')\n"
            "r = roadrunner.RoadRunner(antimony.getSBMLString('r'))\n"
            "print(callable(getattr(roadrunner.RoadRunner, 'reset', None)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120).stdout.strip()
    assert out == "False", (f"libRoadRunner {roadrunner.__version__} keeps RoadRunner.reset: "
                            "the engine's switch-off of dynamic properties may be unneeded")


def test_reset_all_then_reset_fires_t0_events_twice():
    code = ("import antimony, roadrunner\n"
            "antimony.loadAntimonyString('model e\\n x = 0\\n E1: at time >= 0, t0=false: "
            "x = x + 1\\nend')\n"
            "r = roadrunner.RoadRunner(antimony.getSBMLString('e'))\n"
            "r.resetAll(); r.reset(); r.simulate(0, 1, 3)\nprint(r.getValue('x'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120).stdout.strip()
    assert out == "2.0", (f"libRoadRunner {roadrunner.__version__}: t = 0 events fire once "
                          "after resetAll() + reset(); the engine's fresh-instance path for "
                          "delayed events may be unneeded")
