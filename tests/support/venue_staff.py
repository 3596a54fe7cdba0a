"""The eight staff of the load tests: four doctors and four phlebotomists, each at a desk."""

from __future__ import annotations

DOCTORS = {f"doctor{n}": f"Médecin {n}" for n in range(1, 5)}


PHLEBOTOMISTS = {f"phlebo{n}": f"Fauteuil {n}" for n in range(1, 5)}
