from firmware.repl.plug import *  # noqa: F403 - `import plug` at the REPL
