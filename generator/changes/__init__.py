"""The change flow: steps between two OVS states, what changes on each node (files,
networks, switch ports), the plan folder's scripts, the pull-request diff report, and
the rehearsal on a private ovsdb-server.

Where things are:
  steps          the OVS steps from one state of a node to another (plan_node)
  node_plan      those steps as data (NodePlan), read back by read_back; worded by step_words
  plan_states    the states around a plan: what it carries over from a host, what it leaves
  node_changes   what changes on each node (NodeChange: OVS steps, files, networks, switch ports)
  node_groups    nodes whose changes are identical: one section of a plan or a diff
  switchports    the switch side of a change
  plan_folder    the plan folder's files and scripts (plan_host_files: its ifcfg layer)
  diff_report    `ovsgen diff`'s Markdown report
  rehearse       `ovsgen rehearse`, with rehearse_ovsdb (the private server and its tools),
                 rehearse_start (what it may start from), rehearse_libvirt, rehearse_report
"""
