"""The printed booklets: the restitution after the event, the Carnet de Bord before it."""
