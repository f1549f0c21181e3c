"""The command line: click options parsed into typed settings (main), what each command
does with them (commands, change_commands), and how results reach people (reporting,
progress, completion).
"""
