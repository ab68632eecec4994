"""Background work yields to the pages: the server's threads that are not serving a page (a what-if
job, the start-up warm-up) lower their own priority, so that on a 2-core machine the scripts and the
browser that draw pages get the cores first."""
from __future__ import annotations

import os
import threading

NICE = 10   # background threads' nice value: the pages' own work comes first when both want a core


def lower_priority(nice: int = NICE) -> bool:
    """Give the calling thread (and the torch worker threads it goes on to start, which inherit it)
    the nice value ``nice``, so that the Linux scheduler prefers the threads that serve pages (about 9
    to 1 at nice 10); True if it took effect. On Linux the nice value belongs to a thread, so the rest
    of the server keeps its priority."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))
        return True
    except (AttributeError, OSError):   # not Linux, or not allowed: the thread keeps normal priority
        return False
