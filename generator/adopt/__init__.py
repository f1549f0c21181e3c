"""Bringing existing hosts in: read captures (capture_folder), see each host as a node
(host_view), draft one design for all of them (draft, node_draft, design_text), check it against
every host (importer), and compare captured hosts with a design (drift)."""
