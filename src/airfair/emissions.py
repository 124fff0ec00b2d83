"""Emission inventory: where pollution comes from, by sector and place."""

from __future__ import annotations

import pandas as pd
import xarray as xr


def sector_totals(emissions: xr.Dataset, grid: xr.Dataset, variable: str = "total", in_city: bool = True) -> pd.Series:
    """Annual emissions by sector (t/yr), summed over the city's cells (or the whole grid).

    Parameters
    ----------
    emissions : xarray.Dataset
        The ``emissions_grid`` entry.
    grid : xarray.Dataset
        The ``population_grid`` entry (its ``district`` code marks the city's cells).
    variable : str
        "total" (all inventoried pollutants), "pm25", "pm10", "nox" or "so2".
    in_city : bool
        Only cells inside a district (the inventory's "city" figures).

    Returns
    -------
    pandas.Series
        t/yr indexed by sector.
    """
    field = emissions[variable]
    if in_city:
        field = field.where(grid.district >= 0)
    return field.sum(("y", "x")).to_series().rename(f"{variable} (t/yr)")


def sector_shares(emissions: xr.Dataset, grid: xr.Dataset, variable: str = "total", in_city: bool = True) -> pd.Series:
    """Share of each sector in the city's emissions (fractions summing to 1); see :func:`sector_totals`."""
    totals = sector_totals(emissions, grid, variable, in_city)
    return (totals / totals.sum()).rename(f"share of {variable}")
