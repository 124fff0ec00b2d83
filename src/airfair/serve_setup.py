"""Run by ``panel serve --setup`` at the start of each server process when ``airfair serve --num-procs``
is above 1: loads the views and warms the apps there (see :func:`airfair.pages.warm_process`), and makes
the process stop with the server.

Forked processes otherwise outlive a stopped server: Bokeh's SIGTERM handler does not stop a forked
process's loop, and stopping the parent alone (``kill PID``, a process manager) signals none of them.
"""

import os
import signal

from airfair.pages import warm_process


def _stop_with_the_server():
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))  # sessions hold nothing to save
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the parent dies
    except (OSError, AttributeError):  # not Linux: a process group signal still stops them
        pass


_stop_with_the_server()
warm_process()
