from generator.cli.entry import run

run()
