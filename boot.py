# boot.py runs first after every reset; keep it tiny. main.py starts the app
# (firmware/app/boot_guard.py: safe mode, crash handling).
import gc

gc.collect()
