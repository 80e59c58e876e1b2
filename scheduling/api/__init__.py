"""The scheduling API: one module per resource."""
