"""One wrk --latency run as a result line: NAME RESULT rps=... p50_us=... p99_us=... errors=... cpu=...

Usage: python3 wrk_result.py NAME WRK_LOG CPU
(errors: wrk's connect/read/write/timeout errors plus its non-2xx/3xx responses)
"""
import re
import sys

name, log, cpu = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]


def us(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 1, "ms": 1000, "s": 1000000}[m.group(2)]


rps = float(re.search(r"Requests/sec:\s+([\d.]+)", log).group(1))
p50 = us(re.search(r"^\s+50%\s+(\S+)", log, re.M).group(1))
p99 = us(re.search(r"^\s+99%\s+(\S+)", log, re.M).group(1))
errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", log))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", log)
errs += int(non2xx.group(1)) if non2xx else 0
print(f"{name} RESULT rps={rps:.0f} p50_us={p50:.0f} p99_us={p99:.0f} errors={errs} cpu={cpu}")
