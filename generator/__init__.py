"""ovsgen: host-network designs for KVM + Open vSwitch hosts into the files that configure them."""

__version__ = "0.1.0"
