"""Rendering: one module per output kind, each a pure function of a node's
facts, and the kind registry (kinds) that says which paths each kind owns.
"""
