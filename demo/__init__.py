"""Demo and benchmark data (`manage.py seed_demo`): the one app that stands on
every other, so that none of them has to import a higher one to seed itself."""
