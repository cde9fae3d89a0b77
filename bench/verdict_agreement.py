#!/usr/bin/python3
"""Agreement between adoption-engine's verdicts and the paper's labels.

The paper labels each base model "Fit the model" or "Does not fit"
(approx_cond_label); per the data's README the label only records whether
scipy's first curve_fit call ran out of evaluations. Our verdict is "fits"
(the best model by AICc reaches R^2 0.95, no abrupt surge), "does_not_fit"
(no model reaches R^2 0.95, or an abrupt surge) or "not_enough_data" (all
zero, or nothing could be ranked).

Reads `adoptctl compare --all --format csv` from stdin (or a file) and prints
the confusion table and the agreement on the series both judge.

    adoptctl --server ADDR compare --all --format csv | bench/verdict_agreement.py
"""
import collections
import csv
import sys


def main():
    f = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    seen = {}
    for row in csv.DictReader(f):
        if row["fitter"] != "citation":
            continue
        seen[row["series_id"]] = (row["verdict"], row.get("paper_label", ""))
    table = collections.Counter(seen.values())
    verdicts = ["fits", "does_not_fit", "not_enough_data"]
    labels = ["Fit the model", "Does not fit", ""]
    print(f"{'ours / paper':<18}" + "".join(f"{l or '(none)':>16}" for l in labels))
    for v in verdicts:
        print(f"{v:<18}" + "".join(f"{table[(v, l)]:>16}" for l in labels))
    both = sum(table[(v, l)] for v in verdicts[:2] for l in labels[:2])
    agree = table[("fits", "Fit the model")] + table[("does_not_fit", "Does not fit")]
    print(f"\nseries judged by both: {both}; agreement {agree} ({100 * agree / max(both, 1):.1f}%)")
    print(f"paper 'Does not fit' that we find fitting: {table[('fits', 'Does not fit')]}; "
          f"paper 'Fit the model' that we find not fitting: {table[('does_not_fit', 'Fit the model')]}")


if __name__ == "__main__":
    main()
