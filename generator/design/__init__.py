"""Stage 1, the design: a YAML file loaded with positions, checked against the schema,
built into a typed model, its NICs resolved per node, and its rules checked.

loader -> schema (schema_messages explains failures) -> model -> resolve -> rules;
validate runs them in that order and returns a ValidDesign or raises DesignInvalid.
"""
