"""The run report: plots and tables of a run drawn from its receipts alone (no warehouse access),
for `snakemake --report`. receipts.py reads the receipts into plain data, plots.py and tables.py
write it as PNG plots and as HTML and CSV tables, build.py puts the report together."""
