"""imitation-audit helpers: the code behind the five stage notebooks.

Stages, one module each: :mod:`helpers.selection`, :mod:`helpers.generation`,
:mod:`helpers.encoding`, :mod:`helpers.classification`, :mod:`helpers.validation`.
Shared pieces: :mod:`helpers.schema` (typed run settings), :mod:`helpers.paths` (every path),
:mod:`helpers.models` (model loading), :mod:`helpers.stats` (every statistic),
:mod:`helpers.plots` (figures), :mod:`helpers.runner` (runs the notebooks with papermill).
"""

__version__ = "0.1.0"
