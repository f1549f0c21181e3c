"""The Open vSwitch state: what a node's OVSDB should hold (state), the ovs-vsctl
commands that make and read it back (commands), and a host's own database, read from
its dump into the same model (hostdump) or whole, row by row, for rehearsals (dbrows).
"""
