"""The run's numbers in one file per configuration: ``summary.json``, composed from the headline numbers
stages 04 and 05 wrote, and the run record.

Every number in the summary comes from a table the stages wrote, and each of those from the saved
embeddings through :mod:`helpers.stats` and :mod:`helpers.significance` — the README's "How the numbers are
computed" gives the formulas.
"""

from __future__ import annotations

import math

from . import classification, provenance, validation
from .files import read_json, write_json
from .paper import PAPER, PAPER_RULE
from .paths import ConfigPaths
from .record import read_run
from .schema import Configuration, Params

__all__ = ["against_paper", "validation_lines", "write_summary", "write_summaries", "read_summary"]


def against_paper(headline: dict[str, dict]):
    """This run's accuracies and chance beside the paper's, as percentages (a styled table for notebooks);
    ``headline`` is stage 04's per-group headline numbers."""
    import pandas as pd

    art, rnd = headline["artists"], headline["random_names"]
    table = pd.DataFrame(
        {
            "this run": [art["accuracy"], rnd["accuracy"], art["chance"]],
            "paper": [PAPER["accuracy"], PAPER["accuracy_random_names"], PAPER["chance"]],
        },
        index=["mean top-1 accuracy, artists", "mean top-1 accuracy, random names", "chance 1/K"],
    )
    return table.style.format("{:.1%}")


def _share(x) -> str:
    return "—" if x is None else f"{x:.0%}"


def validation_lines(numbers: dict) -> str:
    """The validation headline in words: each test's share of significant artists and its false-positive rate
    on the negative control of deranged real works, then by the origin of the real works when there are
    several (the numbers of a ``summary.json``)."""
    m = numbers["n_validated"]
    level = numbers.get("fraction_significant_artist_level")
    lines = [
        f"artist-level test ({numbers['artist_level_correction']}): {_share(level)} of {m} artists significant"
        + (
            ""
            if level is None
            else f" [{_share(numbers['fraction_significant_artist_level_ci_low'])}, "
            f"{_share(numbers['fraction_significant_artist_level_ci_high'])}]"
        )
        + f"; false-positive rate on deranged works {_share(numbers.get('false_positive_rate_artist_level'))}",
        f"paper's test (imitations as independent, {numbers['correction']}): {_share(numbers['fraction_significant'])}"
        f" significant (paper: {PAPER['fraction_significant']:.0%}); false-positive rate on deranged works "
        f"{_share(numbers.get('false_positive_rate_paper_test'))}",
        f"identified (works closest to their own imitations): {_share(numbers['identification_rate'])} against "
        f"chance {_share(numbers['identification_chance'])} (p = {numbers['identification_p']:.2g}); "
        f"{numbers['n_excluded_validation']} artist(s) not validated",
    ]
    for origin, part in (numbers.get("by_origin") or {}).items():
        lines.append(
            f"  real works of origin {origin} ({part['n_validated']} artists): artist-level "
            f"{_share(part['fraction_significant_artist_level'])}, paper's test {_share(part['fraction_significant'])}"
        )
    return "\n".join(lines)


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _model(record: dict, role: str, name: str) -> dict:
    """The identity of the model ``name`` of ``role`` (generator or encoder: name, source, id, tag, revision,
    path) as run.json records it; full configs stay in run.json."""
    models = record.get("models", {})
    found = [m for m in models.get(f"{role}s", [models.get(role) or {}]) if m.get("name") == name]
    spec = found[0] if found else {}
    return {k: spec[k] for k in ("name", "source", "model", "pretrained", "revision", "path") if k in spec}


def _summary(params: Params, config: Configuration, record: dict) -> dict:
    paths = params.paths.config(config.name)
    cls = classification.read_headline(paths)
    art, rnd, ceiling, exposure = cls["artists"], cls["random_names"], cls["ceiling"], cls["exposure"]
    top = f"top{params.classification.top_k}_accuracy"
    checked = validation.read_headline(paths)
    return _clean(
        {
            "run": params.run,
            **({"config": config.name, "axes": config.axes} if config.name else {}),
            "weights": provenance.weights(params, config),
            "method": config.method,
            "caveats": provenance.caveats(params, config, checked.get("real_work_origins", {})),
            "n_artists": art["n_names"],
            "n_random_names": rnd["n_names"],
            "images_per_artist": params.generation.images_per_name,
            "accuracy": art["accuracy"],
            "accuracy_ci_low": art["accuracy_ci_low"],
            "accuracy_ci_high": art["accuracy_ci_high"],
            "accuracy_pooled": art["accuracy_pooled"],
            top: art[top],
            "permutation_p": art["permutation_p"],
            "accuracy_random_names": rnd["accuracy"],
            **({"baseline_missing": rnd["missing"]} if rnd.get("missing") else {}),
            **({"random_names_attraction": rnd["attraction"]} if rnd.get("attraction") else {}),
            "accuracy_random_names_ci_low": rnd["accuracy_ci_low"],
            "accuracy_random_names_ci_high": rnd["accuracy_ci_high"],
            "chance": art["chance"],
            "chance_random_names": rnd["chance"],
            "confidence": params.classification.confidence,
            "ceiling_accuracy": ceiling["ceiling_accuracy"],
            "accuracy_vs_ceiling": ceiling["accuracy_vs_ceiling"],
            "spearman_caption_count": exposure["spearman_caption_count"],
            "spearman_caption_count_p": exposure["spearman_caption_count_p"],
            f"accuracy_over_{PAPER_RULE}_captions": exposure[f"accuracy_over_{PAPER_RULE}_captions"],
            f"accuracy_at_most_{PAPER_RULE}_captions": exposure[f"accuracy_at_most_{PAPER_RULE}_captions"],
            **({"exposure_note": exposure["note"]} if exposure["note"] else {}),
            "exposure_threshold": exposure.get("threshold"),
            **({"reference": cls["reference"], "roc_auc": cls["reference"]["roc_auc"]} if "reference" in cls else {}),
            **checked,
            "max_works": config.max_works,
            "selection_verified": params.selection.metadata is not None,
            "template": config.template,
            "label_template": config.label_template,
            "generator": _model(record, "generator", config.generator.name),
            "encoder": _model(record, "encoder", config.encoder.name),
            "seed": None if config.generator.external else config.seed,
            **(
                {"external_images": {"path": config.generator.path, "seeds": "unknown"}}
                if config.generator.external
                else {}
            ),
            "paper": PAPER,
        }
    )


def write_summaries(params: Params) -> dict[str | None, dict]:
    """Compose and write every configuration's ``summary.json`` from the products of stages 04 and 05 (their
    headline numbers) and the run record; returns them by configuration."""
    record = read_run(params.paths)
    out = {}
    for config in params.configurations:
        out[config.name] = _summary(params, config, record)
        write_json(params.paths.config(config.name).summary_json, out[config.name])
    return out


def write_summary(params: Params) -> dict:
    """Write every ``summary.json`` (:func:`write_summaries`) and return the first configuration's: the one
    call a notebook makes."""
    return next(iter(write_summaries(params).values()))


def read_summary(paths: ConfigPaths) -> dict:
    """A configuration's ``summary.json``."""
    return read_json(paths.summary_json, needs="05_validation")
