"""Rendering: one module per output kind (ifcfg, ovs_script, libvirt, sheets with wiring),
each a pure function of a node's context (context: its layout, OVS state and build-sheet
facts, worked out once), returning OutputFiles (files); what the switch side needs
(switch_side); the one Jinja environment (templating); and the kind registry (kinds) that
says which paths each kind owns.
"""
