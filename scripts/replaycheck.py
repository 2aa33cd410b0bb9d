#!/usr/bin/env python3
"""replaycheck.py BODIES RECORDS: what aiperf sent against what a trace recorded.

BODIES is the request log of ../shared/aiperf/mock_server.py (LOG.bodies)
after `aiperf profile ... --input-file OUT --custom-dataset-type
mooncake_trace` against it; RECORDS is `trace-extract TRACE` (recorded
messages). Run it with aiperf's Python (../shared/aiperf/py.sh), whose
transformers stand-in is a pure-Python Llama 3 BPE: a tokenizer
independent of the toolkit's.

What aiperf sent (the mock server's bodies log) against what the trace
recorded (trace-extract records), in prompt tokens of message contents,
counted with the pure-Python Llama 3 BPE of the transformers shim (not the
toolkit's tokenizer). Prints totals, largest request, and how many sent
requests match a recorded call message by message in token counts."""
import collections, json, os, sys
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(os.environ.get("AIPERF_TOKENIZER_DIR", "tok/llama33"))
def n(c): return 0 if c is None else len(tok.encode(c, add_special_tokens=False))
bodies, recs = sys.argv[1], sys.argv[2]
sent = []
for l in open(bodies):
    b = json.loads(l); b = b.get("body", b)
    sent.append(tuple((m["role"], n(m.get("content"))) for m in b["messages"]))
rec = [tuple((m["role"], n(m.get("content"))) for m in json.loads(l)["messages"]) for l in open(recs)]
tot = lambda xs: sum(sum(c for _, c in x) for x in xs)
print(f"sent: {len(sent)} requests, {tot(sent)} content tokens, largest {max(sum(c for _, c in x) for x in sent)}")
print(f"recorded: {len(rec)} calls, {tot(rec)} content tokens, largest {max(sum(c for _, c in x) for x in rec)}")
print("sent requests equal to a recorded call, message by message (role, tokens):", sum((collections.Counter(sent) & collections.Counter(rec)).values()))
