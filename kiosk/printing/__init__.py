"""Tickets and slips: one layout, shown in the browser and printed on ESC/POS thermal printers."""
