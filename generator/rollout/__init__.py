"""`ovsgen rollout`: an Ansible project that runs a plan (or a first build from a render) on a fleet,
batch by batch, checking each host first and rolling back on the first failure (docs/rollout.md).

source reads what a plan or a render wrote for it (rollout.json and the nodes' files);
inventory turns that into Ansible's inventory; project adds the playbook, its tasks and README.
"""
