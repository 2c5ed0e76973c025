"""The model core: components, behavioural rules, the ledger and the metrics.

Nothing here imports the UI, Dask or plotting libraries.
"""
