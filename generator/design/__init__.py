"""The design stage: a YAML file loaded with positions, checked against the schema,
built into a typed model, its NICs resolved per node, and its rules checked.

loader (scalars: YAML 1.2 values) -> schema (schema_file: the schema and its formats;
schema_messages explains failures) -> model -> resolve -> rules (rules_bridges,
rules_addresses, rules_networks over rule_context); validate runs them in that order and
returns a ValidDesign or raises DesignInvalid.
"""
