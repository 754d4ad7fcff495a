# main.py: start WattWindow under the boot guard. Safe mode (REPL free, app not started):
# hold the button while the plug boots, or create the file "safemode" on flash.
# Crashes are written to crash.txt; see firmware/app/boot_guard.py.
from firmware.app import boot_guard

boot_guard.main()
