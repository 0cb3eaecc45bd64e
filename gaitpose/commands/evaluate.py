"""``gaitpose evaluate CONFIG --checkpoint CKPT [--split val|test] [-o metrics.json]``: metrics on a split."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Evaluate a checkpoint on the config's test split, or with --split val on its validation split
(the partition's VAL_SET, or the part of TRAIN_SET that data_cfg.val_carve carves off; make every
choice there and read the test split once per configuration). All frames in order, up to
frames_all_limit:
accuracy, macro precision / recall / F1 (current OpenGait protocol), per-class sensitivity and
specificity (the 2024 paper's protocol), confusion matrix, positive-vs-rest ROC-AUC and Brier
score (probabilities: softmax of the loss's logit scale x logits), 95 % intervals from a bootstrap
over subjects. Accepts gaitpose checkpoints and OpenGait ScoNet checkpoints ({'model': state dict}).
With -o, also writes <stem>.confusion.png, <stem>.per_class.csv/.md and <stem>.predictions.csv.
"""


def add_parser(subparsers, name: str, help_: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name, help=help_, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("config", help="YAML config (the one used for training, or any with the same model)")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="checkpoint file")
    p.add_argument("--split", choices=("val", "test"), default=None,
                   help="which split to evaluate (default: evaluator_cfg.split, i.e. test)")
    p.add_argument("-o", "--output", metavar="JSON", help="write metrics JSON (and PNG/CSV beside it)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (as for train)")
    p.add_argument("--drop", action="append", default=[], metavar="MODALITY",
                   help="remove a stream at test time (sils or pose; fusion models only)")
    p.set_defaults(func=run)
    return p


def format_report(report: dict) -> str:
    """Human-readable summary of a metrics report."""
    lines = [
        f"split {report.get('split', '?')}   sequences {report['n']}   accuracy {report['accuracy']:.4f}   macro P {report['macro_precision']:.4f}"
        f"  R {report['macro_recall']:.4f}  F1 {report['macro_f1']:.4f}",
    ]
    if report.get("accuracy_ci95"):
        lo, hi = report["accuracy_ci95"]
        flo, fhi = report["macro_f1_ci95"]
        lines.append(f"bootstrap 95% CI over {report.get('n_subjects', '?')} {report.get('bootstrap_unit', 'sequence')}s: "
                     f"accuracy [{lo:.3f}, {hi:.3f}]  macro-F1 [{flo:.3f}, {fhi:.3f}]")
    if report.get("roc_auc_positive") is not None:
        ci = report.get("roc_auc_positive_ci95")
        lines.append(f"ROC-AUC positive vs rest {report['roc_auc_positive']:.4f}"
                     + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
                     + f"  (softmax of {report.get('logit_scale')} x logits)")
    lines.append(f"{'class':<10}{'sens':>8}{'spec':>8}{'prec':>8}{'F1':>8}{'n':>6}")
    for name, pc in report["per_class"].items():
        lines.append(
            f"{name:<10}{pc['sensitivity']:>8.3f}{pc['specificity']:>8.3f}{pc['precision']:>8.3f}"
            f"{pc['f1']:>8.3f}{pc['support']:>6d}"
        )
    lines.append("confusion (rows true, cols pred): " + str(report["confusion_matrix"]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from gaitpose.cli import UsageError
    from gaitpose.engine.checkpoint import CheckpointError
    from gaitpose.engine.config import ConfigError
    from gaitpose.engine.evaluator import evaluate

    try:
        report = evaluate(args.config, args.checkpoint, out=args.output, overrides=args.overrides,
                          drop_modalities=args.drop, split=args.split)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except CheckpointError as exc:
        print(f"gaitpose evaluate: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:  # bad data for this config: say so on one line
        print(f"gaitpose evaluate: {args.config}: {exc}", file=sys.stderr)
        return 1
    print(format_report(report))
    if args.output:
        print(f"metrics written to {args.output}")
    return 0
