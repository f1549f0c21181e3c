"""The change flow: steps between two OVS states, what changes on each node (files,
networks, switch ports), the plan folder's scripts, the pull-request diff report, and
the rehearsal on a private ovsdb-server.
"""
