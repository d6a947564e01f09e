"""Prints the rounds of a HaLua-vs-HAProxy benchmark and the median ratios.

usage: summarize.py TITLE UNIT KEY LINE...
  UNIT  what is counted per second ("rt" for round trips, "req" for requests)
  KEY   the result field holding that rate ("rtps", "rps")
  LINE  "NAME RESULT KEY=... p50_us=... p99_us=... errors=... cpu=..."; lines alternate
        HAProxy and HaLua, one pair per round.
"""
import datetime
import statistics
import sys


def parse(line):
    name, _, *kv = line.split()
    return name, dict(x.split("=") for x in kv)


def main():
    title, unit, key = sys.argv[1:4]
    rows = [parse(a) for a in sys.argv[4:]]

    def per_cpu(r):
        c = float(r["cpu"])
        return float(r[key]) / c if c > 0 else 0.0

    print(f"# {title} {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"{'round':6}{'':10}{unit + '/s':>10}{'p50 us':>10}{'p99 us':>10}{'errors':>8}{'cpu':>7}{unit + '/cpu-s':>11}")
    ratios, cpu_ratios, p99s = [], [], []
    for i in range(0, len(rows), 2):
        (hn, h), (ln, l) = rows[i], rows[i + 1]
        for name, r in ((hn, h), (ln, l)):
            print(f"{i // 2 + 1:<6}{name:10}{r[key]:>10}{r['p50_us']:>10}{r['p99_us']:>10}{r['errors']:>8}{r['cpu']:>7}{per_cpu(r):>11.0f}")
        ratios.append(float(l[key]) / float(h[key]))
        cpu_ratios.append(per_cpu(l) / max(1.0, per_cpu(h)))
        p99s.append(float(l["p99_us"]) / max(1.0, float(h["p99_us"])))
    print(f"rounds' {unit}/s ratios: {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"ratio HaLua/HAProxy (median of {len(ratios)} rounds): {unit}/s {statistics.median(ratios):.2f}   "
          f"{unit} per CPU-second {statistics.median(cpu_ratios):.2f}   p99 {statistics.median(p99s):.2f}")
    print("(cpu: share of one core the server used while measured; the load generator is pinned to the other core)")


main()
