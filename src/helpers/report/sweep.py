"""The sweep's part of ``report.html``: the configurations side by side, the paired differences, the seed-to-seed
spread and the forest and transform figures, all read from ``06_comparison``'s tables."""

from __future__ import annotations

from .. import comparison
from ..schema import Params
from .format import FIGURE_CAPTIONS, awaiting, esc, figure_html, html_table, interval, p_value, percent

__all__ = ["sweep_section"]


def sweep_section(params: Params) -> str:
    paths = params.paths
    tables = comparison.read_tables(paths)
    if tables is None:
        return awaiting(
            params, paths.table("comparison.csv").relative_to(paths.root).as_posix(), "comparison of the configurations"
        )
    table, paired, spread = tables
    templates = {t: i + 1 for i, t in enumerate(dict.fromkeys(table["template"]))}
    labels = {t: i + 1 for i, t in enumerate(dict.fromkeys(table["label_template"]))}
    table = table.sort_values("accuracy", ascending=False)
    rows = [
        [
            esc(r.config),
            esc(r.generator),
            esc(r.encoder),
            esc(r.method),
            f"t{templates[r.template]} / l{labels[r.label_template]}",
            esc(r.seed),
            interval(r.accuracy, r.accuracy_ci_low, r.accuracy_ci_high),
            percent(r.accuracy_random_names),
            percent(r.chance),
            f"{percent(r.fraction_significant_artist_level, 0)} ({percent(r.false_positive_rate_artist_level, 1)})",
            f"{percent(r.fraction_significant, 0)} ({percent(r.false_positive_rate_paper_test, 1)})",
        ]
        for r in table.itertuples()
    ]
    legend = "; ".join(
        [
            *(f"t{i}: <code>{esc(t)}</code>" for t, i in templates.items()),
            *(f"l{i}: <code>{esc(t)}</code>" for t, i in labels.items()),
        ]
    )
    parts = [
        "<h2>Configurations compared</h2>",
        html_table(
            [
                "config",
                "generator",
                "encoder",
                "method",
                "template / label",
                "seed",
                "accuracy [interval]",
                "random names",
                "chance",
                "significant, artist-level (false positives)",
                "significant, paper's test (false positives)",
            ],
            rows,
            numeric={6, 7, 8, 9, 10},
        ),
        f'<p class="sub">Templates: {legend}. False positives: the share of artists each test calls significant '
        "when each is given another artist's real works (the negative control).</p>",
    ]
    for name in ("forest", "transforms"):
        if paths.figure(name).is_file():
            parts.append(figure_html(paths.figure(name), FIGURE_CAPTIONS[name]))
    if len(paired):
        rows = [
            [
                esc(r.config_a),
                esc(r.config_b),
                esc(r.differs_in + ("" if " vs " not in str(r.methods) else f" ({r.methods})")),
                esc(_METRIC_LABELS.get(r.metric, r.metric)),
                _difference(r.metric, r.difference, r.ci_low, r.ci_high),
                p_value(r.p_value),
                p_value(r.p_holm),
                p_value(r.p_image_level),
                esc(r.method),
            ]
            for r in paired.itertuples()
        ]
        parts += [
            "<h3>Paired differences (configurations that differ in one thing; artists as units)</h3>",
            html_table(
                [
                    "a",
                    "b",
                    "differs in",
                    "measure",
                    "a − b [interval]",
                    "p (artists)",
                    "p (Holm, all pairs)",
                    "p (images, exact McNemar)",
                    "test",
                ],
                rows,
                numeric={4, 5, 6, 7},
            ),
        ]
    if len(spread):
        rows = [
            [
                esc(r.configs),
                esc(int(r.n_seeds)),
                percent(r.mean),
                f"{100 * r.sd:.1f} pts",
                f"{percent(r.min)} – {percent(r.max)}",
                f"±{100 * r.mean_ci_half_width:.1f} pts",
            ]
            for r in spread.itertuples()
        ]
        parts += [
            "<h3>Seed to seed</h3>",
            html_table(
                [
                    "configurations",
                    "seeds",
                    "mean accuracy",
                    "sd over seeds",
                    "range",
                    "interval over artists (mean half-width)",
                ],
                rows,
                numeric={1, 2, 3, 5},
            ),
        ]
    return "".join(parts)


_METRIC_LABELS = {
    "accuracy": "accuracy",
    "validation_auc": "validation AUC (paper's own vs other)",
    "significant_artist_level": "significant, artist-level test",
    "ceiling_accuracy": "ceiling",
}


def _difference(metric: str, difference, low, high) -> str:
    """A paired difference and its interval: points of a percentage, or AUC units."""
    if metric == "validation_auc":
        return f"{difference:+.3f} [{low:+.3f}, {high:+.3f}]"
    return f"{100 * difference:+.1f} pts [{100 * low:+.1f}, {100 * high:+.1f}]"
