"""Per-op times of some PyTorch steps, for the benches' --profile (the PyTorch side of
src/tensor/profiler.ts's rows): torch.autograd.profiler (the legacy CPU profiler; Debian's
PyTorch 1.13 has no Kineto), key_averages() by op name, times in ms, sorted by self time."""
import torch


def profile_ops(run):
    """Runs run() under the profiler; returns (rows, wall_ms)."""
    import time
    with torch.autograd.profiler.profile(use_kineto=False, record_shapes=False) as prof:
        t = time.perf_counter()
        run()
        wall = (time.perf_counter() - t) * 1000
    rows = [{'name': e.key, 'calls': e.count, 'selfMs': e.self_cpu_time_total / 1000, 'totalMs': e.cpu_time_total / 1000}
            for e in prof.key_averages()]
    rows.sort(key=lambda r: -r['selfMs'])
    return rows, wall


def profile_steps(step, first, steps):
    """Profiles step(first) .. step(first + steps - 1); the per-step figures the benches print
    (wall, all ops' self time, the top 30 ops with calls and times per step)."""
    rows, wall = profile_ops(lambda: [step(i) for i in range(first, first + steps)])
    return {
        'profile_wall_ms': wall / steps,
        'ops_self_ms': sum(r['selfMs'] for r in rows) / steps,
        'ops': [dict(r, calls=r['calls'] / steps, selfMs=r['selfMs'] / steps, totalMs=r['totalMs'] / steps) for r in rows[:30]],
    }
