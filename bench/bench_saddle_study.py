"""The minimum-ratio experiment (lecture 1.4): its first run and a second visit, each in a fresh process.

Target (issue 15): the experiment the Home and Critical points pages open
finishes within 20 s on this 2-core machine with an empty cache, and a second
visit (a new server process) is served from the on-disk result cache.
Run: python bench/bench_saddle_study.py
"""
from _common import first_and_second_visit, machine

if __name__ == "__main__":
    print(machine())
    first, second = first_and_second_visit(
        'compute.saddle_study("moons", progress=lambda f: ticks.append(f))',
        'dict(points=len(result.train_loss), highest_ratio=result.highest_ratio)')
    print(f"minimum-ratio experiment, empty caches:   {first['seconds']:.1f} s for {first['points']} refined networks, "
          f"{first['progress_calls']} progress updates (target ≤ 20 s)")
    print(f"second visit, a new process (same cache): {second['seconds']:.2f} s, from the cache: {second['cached']}")
    print(f"highest minimum ratio found: {first['highest_ratio']:.3f} (the lecture: almost none reaches 1)")
