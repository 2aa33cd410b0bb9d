#!/usr/bin/env python3
"""wekacheck.py KV_CACHE_TESTER_DIR TRACE_DIR: load Weka traces (trace-hash
--emit weka --out-dir TRACE_DIR) with kv-cache-tester's own loader and check
them against the format's documented fields.

KV_CACHE_TESTER_DIR is a checkout of github.com/callanjfox/kv-cache-tester
(not part of this repository); its trace_replay_tester.py needs numpy and
pandas (its openai/transformers/plotly imports are stubbed: loading traces
does not use them). Checks:

- kv-cache-tester's TraceManager.load_traces() loads every file (it logs and
  skips a file it cannot read), and normalize_trace() reads each sub-agent
  marker as spawn_subagent() does;
- every request has the documented fields with their types, and only the
  fields aiperf's weka_trace models accept (they forbid others);
  len(hash_ids) is ceil(in / block_size) (ours; kv-cache-tester's
  samples count whole blocks only, which is accepted too); hash_id_scope is "local";
- sub-agent markers carry agent_id, subagent_type, status, models and
  requests; a marker never comes before the parent's first request.
Prints a summary per trace, then the folder's shape (requests per trace,
prompt tokens, how much of each request's hash ids continue its agent's
previous request: compare with kv-cache-tester's traces/), and exits 1 on
the first failure."""
import math, pathlib, sys, types

kv, folder = sys.argv[1], pathlib.Path(sys.argv[2])
for name in ("openai", "transformers", "plotly", "plotly.graph_objects", "plotly.subplots"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["transformers"].AutoTokenizer = None
sys.modules["plotly.subplots"].make_subplots = None
sys.path.insert(0, kv)
import trace_replay_tester as kvt  # noqa: E402

REQUEST = {"t": (int, float), "type": str, "model": str, "in": int, "out": int, "hash_ids": list,
           "input_types": list, "output_types": list, "stop": str, "api_time": (int, float),
           "think_time": (int, float), "ttft": (int, float)}
REQUIRED = {"t", "type", "model", "in", "out", "hash_ids"}
MARKER = {"t": (int, float), "type": str, "agent_id": str, "subagent_type": str, "duration_ms": int,
          "total_tokens": int, "tool_use_count": int, "status": str, "requests": list, "models": list,
          "tool_tokens": int, "system_tokens": int}
MARKER_REQUIRED = {"t", "type", "agent_id", "subagent_type", "status", "requests", "models"}
NULLABLE = {"api_time", "think_time", "ttft", "duration_ms", "total_tokens", "tool_use_count"}
TRACE = {"id": str, "models": list, "block_size": int, "hash_id_scope": str, "tool_tokens": int,
         "system_tokens": int, "requests": list, "totals": dict}


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def fields(where, obj, allowed, required):
    for k in required - obj.keys():
        fail(f"{where}: no {k!r}")
    for k, v in obj.items():
        if k not in allowed:
            fail(f"{where}: field {k!r} is not in the format (aiperf forbids it)")
        if v is None and k in NULLABLE:
            continue
        if isinstance(v, bool) or not isinstance(v, allowed[k]):
            fail(f"{where}: {k!r} is {v!r}")


def request(where, r, block):
    fields(where, r, REQUEST, REQUIRED)
    if r["type"] not in ("n", "s"):
        fail(f"{where}: type {r['type']!r}")
    if r["out"] < 0 or r["in"] < 0 or r["t"] < 0:
        fail(f"{where}: in/out/t out of range: {r}")
    if len(r["hash_ids"]) not in (r["in"] // block, math.ceil(r["in"] / block)):
        fail(f"{where}: {len(r['hash_ids'])} hash ids for {r['in']} tokens in blocks of {block}")


files = sorted(folder.glob("*.json"))
tm = kvt.TraceManager(folder, max_context=10**9)
loaded = tm.load_traces()
if loaded != len(files):
    fail(f"kv-cache-tester loaded {loaded} of {len(files)} traces")
import json  # noqa: E402
total = subs = reqs = 0
ins, reuse = [], []


def shape(requests):
    """Adds each request's prompt tokens and its hash-id prefix shared with
    the agent's previous request, as a share of its hash ids."""
    prev = None
    for r in requests:
        ins.append(r["in"])
        if prev is not None and r["hash_ids"]:
            n = 0
            while n < min(len(prev), len(r["hash_ids"])) and prev[n] == r["hash_ids"][n]:
                n += 1
            reuse.append(n / len(r["hash_ids"]))
        prev = r["hash_ids"]


for f in files:
    tr = json.loads(f.read_text())
    fields(f.name, tr, TRACE, {"id", "models", "block_size", "hash_id_scope", "requests"})
    if tr["hash_id_scope"] != "local" or tr["block_size"] < 1:
        fail(f"{f.name}: hash_id_scope {tr['hash_id_scope']!r}, block_size {tr['block_size']}")
    first_parent = next((i for i, r in enumerate(tr["requests"]) if r["type"] != "subagent"), None)
    if first_parent != 0:
        fail(f"{f.name}: the first request is not the parent's")
    n = 0
    for i, r in enumerate(tr["requests"]):
        where = f"{f.name} request {i}"
        if r["type"] == "subagent":
            fields(where, r, MARKER, MARKER_REQUIRED)
            for j, q in enumerate(r["requests"]):
                request(f"{where} sub-request {j}", q, tr["block_size"])
            mini = kvt.normalize_trace({"id": f"{tr['id']}:{r['agent_id']}", "models": r["models"],
                                        "block_size": tr["block_size"], "hash_id_scope": tr["hash_id_scope"],
                                        "requests": r["requests"]})
            if mini["metadata"]["request_count"] != len(r["requests"]):
                fail(f"{where}: kv-cache-tester reads {mini['metadata']['request_count']} sub-requests")
            subs += 1
            n += len(r["requests"])
        else:
            request(where, r, tr["block_size"])
            n += 1
    shape([r for r in tr["requests"] if r["type"] != "subagent"])
    for r in tr["requests"]:
        if r["type"] == "subagent":
            shape(r["requests"])
    total += 1
    reqs += n
    print(f"{f.name}: {n} requests, {sum(r['type'] == 'subagent' for r in tr['requests'])} sub-agents")
ins.sort()
print(f"shape: {reqs / total:.1f} requests per trace; prompt tokens p50 {ins[len(ins) // 2]}, max {ins[-1]}; "
      f"a request continues its agent's previous one for {100 * sum(reuse) / max(1, len(reuse)):.1f}% of its hash ids (mean)")
print(f"ok: kv-cache-tester loaded {loaded} traces; {reqs} requests, {subs} sub-agents; every documented field checked")
