# ruff: noqa: F821 - include/package/module are provided by MicroPython's manifest loader
# Freeze WattWindow into a custom MicroPython firmware (the code then runs from flash without a
# filesystem copy and uses less RAM). From a micropython checkout:
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/wattwindow/manifest.py
# boot.py and main.py stay on the filesystem (`mpremote cp boot.py main.py :`), as do the
# site files (config.json, the price cache); `import plug` then finds the frozen shim.
include("$(PORT_DIR)/boards/manifest.py")
package("firmware", opt=2)
module("plug.py", opt=2)
