"""Pure domain code of element control: no Django imports anywhere below this package.

Units are in the names (``speed_kn``, ``distance_m``, ``dwell_min``); coordinates are WGS84
longitude/latitude degrees; times are timezone-aware and compared in UTC, judged in
Asia/Shanghai where the rule says "night" or "holiday".
"""
