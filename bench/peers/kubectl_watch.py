"""kubectl as a watch contender of bench/run.py: reads the output of
`kubectl get KIND -n NS --watch-only -o json --output-watch-events` (one
pretty-printed event object after another) from stdin and prints MODIFIED
events/s, timed from the first MODIFIED event to the Nth, as bench/watch.lua
does.   kubectl ... | python kubectl_watch.py N"""
import json
import sys
import time

n = int(sys.argv[1])
decoder = json.JSONDecoder()
buf, seen, first, last_seq = "", 0, None, None
while seen < n:
    chunk = sys.stdin.buffer.read1(65536)
    if not chunk:
        break
    buf += chunk.decode()
    while True:
        buf = buf.lstrip()
        try:
            ev, end = decoder.raw_decode(buf)
        except ValueError:
            break
        buf = buf[end:]
        if ev.get("type") == "MODIFIED":
            seen += 1
            if seen == 1:
                first = time.perf_counter()
            last_seq = (ev["object"]["metadata"].get("annotations") or {}).get("kube-testserver/firehose-seq")
            if seen == n:
                break
end = time.perf_counter()
assert seen == n, "got %d MODIFIED events of %d" % (seen, n)
assert last_seq == str(n), "the last event is sequence %s, not %d" % (last_seq, n)
print("%.0f" % ((n - 1) / (end - first)))
sys.stdout.flush()
