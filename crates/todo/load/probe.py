#!/usr/bin/env python3
"""A latency probe to run beside wrk: the book's request mix (80% GET /entries, 20% POST
/add_entry, lists list_1..list_1000, a random day of December 2018) sent at a fixed rate over
one keep-alive connection, each latency measured from the moment the request was due (open
loop: a stall delays the requests queued behind it, and they count it, which a closed-loop
client such as wrk leaves out). Prints the percentiles, and per route.

    python3 crates/todo/load/probe.py http://127.0.0.1:5454 30 [rate per second, default 200]

Python's own cost (http.client's request and response handling, a fraction of a millisecond
a request) is in every figure: compare its p50 with wrk's to see it.
"""

import http.client
import random
import sys
import time
import urllib.parse


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[i]


def report(name, values):
    v = sorted(values)
    if not v:
        print(f"{name}: no requests")
        return
    ms = lambda x: f"{x * 1000:.2f} ms"
    print(
        f"{name}: {len(v)} requests, p50 {ms(percentile(v, 50))}, p90 {ms(percentile(v, 90))}, "
        f"p99 {ms(percentile(v, 99))}, p99.9 {ms(percentile(v, 99.9))}, max {ms(v[-1])}"
    )


def main():
    url = urllib.parse.urlparse(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5454")
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 200.0
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
    interval = 1.0 / rate
    start = time.perf_counter()
    latencies = {"GET": [], "POST": []}
    errors = 0
    k = 0
    while True:
        due = start + k * interval
        if due - start >= seconds:
            break
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        lst = f"list_{random.randint(1, 1000)}"
        day = f"2018-12-{random.randint(1, 31):02d}"
        if random.randint(1, 5) < 5:
            method, path = "GET", f"/entries?list={lst}&date={day}"
        else:
            method, path = "POST", f"/add_entry?list={lst}&date={day}&title=Dentist"
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
        latencies[method].append(time.perf_counter() - due)
        k += 1
    report("all", latencies["GET"] + latencies["POST"])
    report("GET /entries", latencies["GET"])
    report("POST /add_entry", latencies["POST"])
    if errors:
        print(f"errors: {errors}")


if __name__ == "__main__":
    main()
