"""Steps chained by callbacks run where simpy processes would: the same order, fewer events."""

import simpy

from sim.world.steps import soon, then


def _as_processes(order):
    env = simpy.Environment()

    def job(name, delay):
        order.append((env.now, name, "start"))
        yield env.timeout(delay)
        order.append((env.now, name, "end"))

    def caller():
        env.process(job("a", 5))
        order.append((env.now, "caller", "between"))
        env.process(job("b", 5))
        yield env.timeout(5)
        order.append((env.now, "caller", "woke"))

    env.process(caller())
    env.run()
    return env


def _as_steps(order, mixed: bool):
    env = simpy.Environment()

    def start(name, delay):
        order.append((env.now, name, "start"))
        then(env.timeout(delay), lambda: order.append((env.now, name, "end")))

    def job(name, delay):  # one of them a process still, to interleave with the steps
        order.append((env.now, name, "start"))
        yield env.timeout(delay)
        order.append((env.now, name, "end"))

    def caller():
        soon(env, start, "a", 5)
        order.append((env.now, "caller", "between"))
        if mixed:
            env.process(job("b", 5))
        else:
            soon(env, start, "b", 5)
        yield env.timeout(5)
        order.append((env.now, "caller", "woke"))

    env.process(caller())
    env.run()
    return env


def test_steps_run_in_the_order_processes_would_and_schedule_no_end_events():
    # the caller's own timeout is scheduled before the jobs start (their first step runs after it
    # yields), so at 5 s it wakes first: a step run at once instead would have swapped them
    expected = [(0, "caller", "between"), (0, "a", "start"), (0, "b", "start"),
                (5, "caller", "woke"), (5, "a", "end"), (5, "b", "end")]
    by_process: list = []
    processes = _as_processes(by_process)
    assert by_process == expected
    assert next(processes._eid) == 9  # 3 starts, 3 timeouts, 3 ends
    for mixed in (False, True):
        by_steps: list = []
        steps = _as_steps(by_steps, mixed)
        assert by_steps == expected
        # steps: 3 starts (two of them a step's), 3 timeouts and only the caller's end; with job b a
        # process again, its end too
        assert next(steps._eid) == (8 if mixed else 7)


def test_then_goes_on_at_once_after_an_event_already_processed():
    env = simpy.Environment()
    done = env.event()
    done.succeed()
    env.run()  # processed: its callbacks are gone
    seen = []
    then(done, seen.append, "at once")
    assert seen == ["at once"]
    pending = env.event()
    then(pending, seen.append, "later")
    assert seen == ["at once"]
    pending.succeed()
    env.run()
    assert seen == ["at once", "later"]
