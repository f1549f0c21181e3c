"""The speed machinery, kept apart from the stages it speeds up: the per-user cache of
compiled templates and of the generated schema validator, the fork pool that renders
large designs, and control of the garbage collector while a design is built.

Nothing here decides what ovsgen outputs; each piece can be taken away and every
output stays byte for byte the same, only slower.
"""
