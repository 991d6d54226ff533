"""`make bench-scale` (`python -m bench.scale`): 1,000 conversations on the scale-out
topology, then the same load with faults; what the run does and its options are in
`__main__.py`.

- `paths`: what the buyers say (the SPEC §4 paths, one conversation plan per order), the
  orders seeded for them and the writes each path must leave in the order store;
- `load`: the HTTP client that drives every conversation at once, with retries;
- `faults`: the faults injected during the load and what each one cost;
- `measure`: CPU and memory per server, what PostgreSQL stored, the constant-cost
  measurement on long conversations;
- `phases`: one phase end to end (seed, drive, check, summarise);
- `report`: results/bench_scale.{md,json,png}.
"""
