"""Many machines: what the benchmarks workflow (.github/workflows/benchmarks.yml) runs, as
commands that run the same by hand.

    tools.ci.machines   the machines file: which machine runs what; the workflow's matrix
    tools.ci.steps      one machine's job: its measurements, then its artifact
    tools.ci.merge      every machine's artifact into one tree, one dashboard
    tools.ci.follow     new numba/torch releases: the ledger, the pairs to measure
    tools.ci.local      the workflow's jobs on this machine, for two or more machine names
"""
