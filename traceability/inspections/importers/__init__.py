"""Readers of inspection history in the formats authorities publish (LIVES, FHRS, NYC, CSV).

Each reader turns a file into ``ParsedFile``: the businesses, the inspections
(with their violations) and the rows it refused, each with where it was and
why. A file-level problem (wrong encoding, a missing column, a broken zip)
raises ``Invalid`` before anything is stored. Pure: no database.
"""
