"""Work that waits, as steps chained by callbacks instead of one simpy process each.

A pod's start-up and its graceful termination are short sequences: wait for something, then
act. As simpy processes each costs a process's start event and its end event besides the
events it waits on (at 1,000 surge nodes two in five of the run's events). Here a step is
called where simpy would have resumed the process, so the events that matter are scheduled at
the same moments and in the same order, and results stay the same:

- ``soon`` stands for starting a process: the first step runs at an urgent event scheduled
  now (what simpy's ``Initialize`` is);
- ``then`` stands for ``yield event``: the next step runs among the event's callbacks, where
  the process's resume would have been, or at once if the event has been processed already
  (a process yielding such an event goes straight on);
- a chain that ends schedules nothing (a process's end event had no one waiting on it).

Only simpy; imports nothing of midair.
"""

from __future__ import annotations

from simpy.events import URGENT, Event


def soon(env, step, *args) -> None:
    """Call ``step(*args)`` where a process started now would first run."""
    event = Event(env)
    event._ok = True
    event._value = None
    event.callbacks.append(lambda _event: step(*args))
    env.schedule(event, URGENT)


def then(event, step, *args) -> None:
    """Call ``step(*args)`` once ``event`` has happened (at once if it has been processed)."""
    if event.callbacks is None:
        step(*args)
    else:
        event.callbacks.append(lambda _event: step(*args))
