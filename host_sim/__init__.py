"""The desktop simulator: the firmware's App on a simulated HAL and clock, fetching real
historical prices over HTTP from a local server; `python -m host_sim --help`."""
