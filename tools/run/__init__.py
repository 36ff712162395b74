"""Running the suite: phases of the main job, scratch runs, matrix environments, provenance.

Nothing here imports asv at package level: matrix environments run `tools.run.provenance`,
and asv is not installed there."""
