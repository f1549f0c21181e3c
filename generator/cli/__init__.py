"""The command line. entry is the process entry point; main (click only, with the parameter
types of options) parses options into a typed settings object per command (settings,
change_settings); usage refuses command lines before a command starts; commands and
change_commands do what each command does; exits turns what a command raised into an
exit status; reporting, progress and completion are how results reach people and shells.
"""
