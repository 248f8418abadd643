"""Command-line options several subcommands share (not subcommands): the fit options and the FitConfig they
describe (``fit``), the model's structure (``regional``), what a fit is scored on (``scoring``), clusters
(``cluster``) and ``--map-control`` (``map_control``)."""
