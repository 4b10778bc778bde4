"""One Markdown table of a grid's cells, as VALIDATION.md shows them.

Usage: python3 tools/validation/grid_table.py OUT/validate.json
Per effect cell: the baseline per subject, the network per window, the subject-level p,
whether it learned (and the model `--model auto` chose), and each method's top band
(checked against the planted band: a hit when the top band holds the planted band's
centre, as `eeglens validate` scores it; `none` when the method claims no band). Null
cells follow, with whether the network learned and any claim.
"""
import json
import sys


def top(m, learned):
    if not learned or not m.get("read"):
        return ""
    band = m.get("top_band")
    if band is None:
        return "none ✗"
    return f"{band} {'✓' if m.get('band_hit') else '✗'}"


def main(path):
    doc = json.load(open(path))
    print("| cell | baseline per subject | network per window | subject p | learned | optimal | actmax | deconv |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    nulls = []
    for c in doc["cells"]:
        m = c["model"]
        chosen = (m.get("selection") or {}).get("chosen", "")
        if c.get("band_name") is None:
            nulls.append(c)
            continue
        learned = m["learned"]
        name = f"{c['band_name']} {c['place']} (size {c['size']:g})"
        verdict = f"yes ({chosen})" if learned else "no"
        meth = c["methods"]
        print(
            f"| {name} | {c['baseline']['subject_accuracy']:.2f} | {m['accuracy']:.3f} | {m['subject_p']:.3g} | {verdict} "
            f"| {top(meth['optimal'], learned)} | {top(meth['actmax'], learned)} | {top(meth['deconv'], learned)} |"
        )
    for c in nulls:
        m = c["model"]
        claims = [k for k, v in c["methods"].items() if v.get("top_band")]
        print(
            f"| null {c['name'].split('-')[0]} | {c['baseline']['subject_accuracy']:.2f} | {m['accuracy']:.3f} | "
            f"{m['subject_p']:.3g} | {'YES' if m['learned'] else 'no'} | claims: {', '.join(claims) or 'none'} | | |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
