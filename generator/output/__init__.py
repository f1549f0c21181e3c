"""Output: rendered files written atomically into the output folder, and
compared with a golden folder.
"""
