"""The printed booklets: data builders, templates, print CSS, rendering."""
