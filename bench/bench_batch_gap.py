"""The small-vs-large batch gap study (lecture 1.5, the Network lab's tab): its first run and a second visit.

Target (issue 15): Keskar et al.'s comparison on ``networks.BATCH_GAP_SETTING``
(10 seeds × 2 batch sizes, one vmapped call per batch size) finishes within
~20 s on this 2-core machine with empty caches, behind a progress bar, and a
second visit (a new server process) is served from the on-disk result cache.
Run: python bench/bench_batch_gap.py
"""
from _common import first_and_second_visit, machine

if __name__ == "__main__":
    print(machine())
    first, second = first_and_second_visit(
        "compute.batch_gap_study(progress=lambda f: ticks.append(f))",
        'dict(seeds=len(result.gap), gap=result.gap_mean, spread=result.gap_spread, '
        'sharpness=[float(v) for v in result.mean["sharpness"]])')
    print(f"batch gap study, empty caches:            {first['seconds']:.1f} s for {first['seeds']} seeds × 2 batch "
          f"sizes, {first['progress_calls']} progress updates (target ≤ 20 s)")
    print(f"second visit, a new process (same cache): {second['seconds']:.2f} s, from the cache: {second['cached']}")
    print(f"test accuracy gap {100 * first['gap']:+.1f} ± {100 * first['spread']:.1f} points; "
          f"λmax small {first['sharpness'][0]:.3g}, large {first['sharpness'][1]:.3g}")
