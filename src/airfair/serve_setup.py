"""Run by ``panel serve --setup`` at the start of each server process when ``airfair serve --num-procs``
is above 1: loads the views and warms the apps there (see :func:`airfair.pages.warm_process`)."""

from airfair.pages import warm_process

warm_process()
