"""airfair: making sense of urban air pollution and of who bears it.

Examples
--------
>>> import airfair
>>> cat = airfair.open_catalog()          # doctest: +SKIP
>>> cat["readings"].read()                # a Dask DataFrame  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from airfair.catalog import DataContractError, DataNotBuiltError, data_directory, open_catalog

try:
    __version__ = version("airfair")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["open_catalog", "data_directory", "DataNotBuiltError", "DataContractError", "__version__"]
