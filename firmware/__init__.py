# WattWindow firmware core. Data flow, by module:
# providers/<api> -> http -> jsonstream -> schedule -> store -> planner -> app -> relay (hal)
VERSION = "0.1.0"
