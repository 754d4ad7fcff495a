# boot.py runs first after every reset; keep it tiny. main.py starts the app
# (firmware/boot_guard.py: safe mode, crash handling).
import gc

gc.collect()
