"""The course's structure: every exercise has its solution and a check after it; filling puts the solution
in place; a mismatch is named. (The course itself runs in test_demo.py, on the toy world.)"""

import jupytext
import pytest

from helpers import course
from helpers.errors import AuditError


@pytest.mark.parametrize("notebook", course.course_notebooks(), ids=lambda p: p.stem)
def test_every_exercise_has_its_solution_and_a_check(notebook):
    nb = jupytext.read(notebook)
    assert nb.cells[0].cell_type == "markdown" and "**Concept.**" in nb.cells[0].source
    assert ["parameters"] in [c.metadata.get("tags") for c in nb.cells], "one parameters cell (params_file)"
    exercises = [
        i for i, c in enumerate(nb.cells) if any(t.startswith("exercise:") for t in c.metadata.get("tags", []))
    ]
    assert exercises, "a course notebook asks the student for something"
    for i in exercises:
        assert "= ..." in nb.cells[i].source, "an exercise starts as a placeholder (`name = ...`)"
        check = nb.cells[i + 1]
        assert check.cell_type == "code" and "assert" in check.source and "write Exercise" in check.source
    filled = course.fill(notebook, course.COURSE_DIR / "solutions" / notebook.name)
    for i in exercises:
        assert "= ..." not in filled.cells[i].source, "the solution replaces the placeholder"
    assert [c.source for j, c in enumerate(filled.cells) if j not in exercises] == [
        c.source for j, c in enumerate(nb.cells) if j not in exercises
    ]


def test_a_missing_solution_is_named(tmp_path):
    exercise, solution = tmp_path / "01_x.py", tmp_path / "sol.py"
    exercise.write_text('# %% tags=["exercise:a"]\nx = ...\n\n# %% tags=["exercise:b"]\ny = ...\n')
    solution.write_text('# %% tags=["solution:a"]\nx = 1\n')
    with pytest.raises(AuditError, match=r"exercises \['a', 'b'\] but solutions \['a'\]"):
        course.fill(exercise, solution)
    solution.write_text('# %% tags=["solution:a"]\nx = 1\n\n# %% tags=["solution:b"]\ny = 2\n')
    assert [c.source for c in course.fill(exercise, solution).cells] == ["x = 1", "y = 2"]
