"""Tickets for the browser (and, later, thermal printers)."""
