"""Running a scenario to the end and writing its outputs, figures and canonical results."""
