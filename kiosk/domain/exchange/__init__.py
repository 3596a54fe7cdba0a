"""What goes to, and comes back from, the regional centre: the bundle and the donor list."""
