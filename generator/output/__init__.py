"""Stage 4, output: rendered files written atomically into the output folder, and
compared with a golden folder.
"""
