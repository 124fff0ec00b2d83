"""Run by ``panel serve --setup`` at the start of each server process when ``airfair serve --num-procs``
is above 1: the process stops with the server (:func:`airfair.pages.stop_with_the_server`) and loads the
views and warms the apps before its first visitor (:func:`airfair.pages.warm_process`)."""

from airfair.pages import stop_with_the_server, warm_process

if __name__ != "airfair.serve_setup":  # run by Panel, not imported (e.g. by pytest's doctest collection)
    stop_with_the_server()
    warm_process()
