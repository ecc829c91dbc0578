"""One artist of a finished run, up close: their imitations with what CLIP named each, the label prompts
nearest to them, their real works, where their imitations stand in the validation test, and whom they are
mistaken for. ``notebooks/explore.py`` shows it; in JupyterLab, :func:`chooser` adds a dropdown of artists.

Everything is read from the run's products (stages 01–05); nothing is recomputed but the per-artist
selections of those tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import attribution, classification, encoding, plots, provenance, selection, validation
from .errors import AuditError
from .schema import Configuration, Params

__all__ = ["ArtistView", "artist_view", "show", "chooser"]


@dataclass(frozen=True)
class ArtistView:
    """What a run says about one artist (one configuration)."""

    artist: str
    config: Configuration
    imitations: pd.DataFrame
    """One row per imitation: ``image, predicted, score, correct``."""
    nearest: pd.DataFrame
    """Every artist by the mean similarity of this artist's imitations to them (``artist, similarity``):
    to their label prompt (zero-shot), or s(q, a) to their reference works (reference)."""
    real_works: list[str]
    validation: pd.Series | None
    """This artist's row of ``validation.csv`` (``None`` when not validated)."""
    own_other: pd.DataFrame
    confused_with: pd.DataFrame
    """Whom the imitations were named as, when not this artist: ``artist, images, share``."""
    accuracy: pd.Series


def _config(params: Params, name: str | None) -> Configuration:
    configs = {c.name: c for c in params.configurations}
    if name is None:
        return params.configurations[0]
    if name not in configs:
        raise AuditError(f"run {params.run} has no configuration {name!r}", fix=f"use one of {[c for c in configs]}")
    return configs[name]


def artist_view(params: Params, artist: str | None = None, config: str | None = None) -> ArtistView:
    """The view of ``artist`` (default: the most accurately imitated) in configuration ``config`` (default:
    the first)."""
    chosen = _config(params, config)
    paths = params.paths.config(chosen.name)
    accuracy = classification.read_accuracy(paths)
    accuracy = accuracy[accuracy["group"] == "artists"].set_index("name")
    if artist is None:
        artist = accuracy.sort_values("accuracy", ascending=False, kind="stable").index[0]
    if artist not in accuracy.index:
        raise AuditError(
            f"{artist!r} is not an artist of run {params.run}",
            where="artist",
            fix=f"use one of: {', '.join(accuracy.index[:10])}{' …' if len(accuracy) > 10 else ''}",
        )
    pred = classification.read_predictions(paths)
    mine = pred[(pred["group"] == "artists") & (pred["name"] == artist)]
    imitations = pd.DataFrame(
        {
            "image": [str(params.paths.in_run(p)) for p in mine["image"]],
            "predicted": mine["predicted"].to_numpy(),
            "score": mine["score"].to_numpy(),
            "correct": mine["correct"].to_numpy(),
        }
    )
    emb = encoding.read_embeddings(paths)
    rows = emb.rows("imitation", "artists")
    own = emb.image_vectors[rows[rows["name"] == artist].index]
    if chosen.method == "reference":
        found = attribution.gallery(params, emb, emb.names("artists"))
        nearest = pd.DataFrame({"artist": found.candidates, "similarity": found.scores(own).mean(axis=0)})
    else:
        labels = emb.label_rows("artists")
        nearest = pd.DataFrame(
            {"artist": labels["name"].to_numpy(), "similarity": (own @ emb.label_vectors[labels.index].T).mean(axis=0)}
        )
    nearest = nearest.sort_values("similarity", ascending=False, kind="stable").reset_index(drop=True)
    real = emb.rows("real")
    real_works = [str(params.paths.in_run(p)) for p in real[real["name"] == artist]["path"]]
    table = validation.read_validation(paths).set_index("artist")
    long = pd.DataFrame(columns=["artist", "kind", "similarity"])
    if artist in table.index:
        long = validation.read_own_other(paths)
        long = long[long["artist"] == artist]
    wrong = imitations[~imitations["correct"]]["predicted"].value_counts()
    confused = pd.DataFrame(
        {"artist": wrong.index, "images": wrong.to_numpy(), "share": wrong.to_numpy() / max(len(imitations), 1)}
    )
    return ArtistView(
        artist,
        chosen,
        imitations,
        nearest,
        real_works,
        table.loc[artist] if artist in table.index else None,
        long,
        confused,
        accuracy.loc[artist],
    )


_RANK = {
    "zero-shot": "rank of the own label among all labels",
    "reference": "rank of the own reference works among all artists'",
}
_NAMED = {"zero-shot": "named by their nearest label prompt", "reference": "attributed by the nearest reference works"}


def _p(value) -> str:
    return "not computed" if pd.isna(value) else f"{value:.3g}"


def _verdict(row) -> str:
    """Both tests' corrected p-values and verdicts, in one line."""
    level = row["significant_artist_level"]
    level = "not computed" if pd.isna(level) else "significant" if level else "not significant"
    return (
        f"corrected p: artist-level {_p(row['p_adjusted_artist_level'])} ({level}); paper's test "
        f"{_p(row['p_adjusted_paper_test'])} ({'significant' if row['significant_paper_test'] else 'not significant'})"
    )


def show(params: Params, view: ArtistView) -> dict[str, object]:
    """The view's figures and tables, ready to display: ``imitations`` and ``real_works`` (image grids),
    ``own_other`` (the validation scores; absent when the artist was not validated), ``summary``."""
    weights = provenance.weights(params, view.config)
    items = [
        (row.image, f"{row.predicted}\n{row.score:.3f}", bool(row.correct)) for row in view.imitations.itertuples()
    ]
    out: dict[str, object] = {
        "imitations": plots.inline(
            plots.captioned_grid(
                items,
                title=f"{params.run}: imitations of {view.artist}, {_NAMED[view.config.method]} (green: right)",
                weights=weights,
            )
        ),
    }
    if view.real_works:
        out["real_works"] = plots.inline(
            plots.captioned_grid(
                [(p, f"real work {i + 1}", None) for i, p in enumerate(view.real_works)],
                title=f"{params.run}: real works of {view.artist}",
                weights=weights,
                note=provenance.STANDIN_NOTE if params.validation.standin else None,
            )
        )
    if view.validation is not None:
        row = view.validation
        out["own_other"] = plots.inline(
            plots.own_other_distributions(
                view.own_other,
                weights=weights,
                title=f"{params.run}: {view.artist}'s real works vs imitations",
                note=_verdict(row),
            )
        )
    acc = view.accuracy
    out["summary"] = pd.Series(
        {
            "accuracy": f"{acc['accuracy']:.0%} ({acc['n_correct']} of {acc['n_images']}) [{acc['ci_low']:.0%}, {acc['ci_high']:.0%}]",
            _RANK[view.config.method]: int(np.flatnonzero(view.nearest["artist"] == view.artist)[0]) + 1,
            "real works": len(view.real_works),
            "artist-level test, p (corrected)": "not validated"
            if view.validation is None
            else _p(view.validation["p_adjusted_artist_level"]),
            "paper's test (imitations as independent), p (corrected)": "not validated"
            if view.validation is None
            else _p(view.validation["p_adjusted_paper_test"]),
        },
        name=view.artist,
    )
    return out


def chooser(params: Params, config: str | None = None, *, current: str | None = None):
    """A dropdown of the run's artists (JupyterLab, with ipywidgets): choosing one shows :func:`show`'s views
    of that artist below it. It starts at ``current`` (the artist the notebook already shows) with nothing
    below: writing into an ``Output`` widget while its cell executes made papermill wait forever on an idle
    kernel (4 of 6 headless runs here), so the views are drawn only when the choice changes."""
    import ipywidgets
    from IPython.display import display

    names = selection.read_names(params.paths)["artists"]
    output = ipywidgets.Output()

    def render(change) -> None:
        output.clear_output(wait=True)
        with output:
            view = artist_view(params, change["new"], config)
            for item in show(params, view).values():
                display(item)
            display(view.nearest.head(5), view.confused_with)

    dropdown = ipywidgets.Dropdown(options=names, value=current if current in names else names[0], description="artist")
    dropdown.observe(render, names="value")
    return ipywidgets.VBox([dropdown, output])
