"""How formula outputs read: 6.74B, 13.5 GB (12.6 GiB), 8.40e23, $0.0035, 0.0622%.

Written in the same restricted Python as the formulas and compiled to the
browser by ``jsgen``, so a figure in the prose, the CLI and a calculator always
show the same text. Rounding is half away from zero on exact digits; nothing
here depends on a platform's float formatting.
"""

from .formulakit import floor, int_text

POW10 = [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0, 10000000.0, 100000000.0]


def group(digits):
    """'6738415616' -> '6,738,415,616'."""
    out = ""
    while len(digits) > 3:
        out = "," + digits[len(digits) - 3:] + out
        digits = digits[:len(digits) - 3]
    return digits + out


def fixed(x, places):
    """x with a fixed number of decimals (0 to 8) and grouped thousands."""
    n = floor(abs(x) * POW10[places] + 0.5)
    sign = ""
    if x < 0 and n > 0:
        sign = "-"
    digits = int_text(n)
    if places == 0:
        return sign + group(digits)
    while len(digits) <= places:
        digits = "0" + digits
    cut = len(digits) - places
    return sign + group(digits[:cut]) + "." + digits[cut:]


def short(x):
    """About three significant figures: 412, 41.2, 4.12."""
    a = abs(x)
    if a >= 99.95:
        return fixed(x, 0)
    if a >= 9.995:
        return fixed(x, 1)
    return fixed(x, 2)


def fmt_number(x):
    if x == floor(x) and abs(x) < 1e15:
        return fixed(x, 0)
    return short(x)


def fmt_count(x):
    """Counts with K/M/B/T suffixes: 6,738,415,616 -> 6.74B."""
    a = abs(x)
    if a >= 999.5e9:
        return short(x / 1e12) + "T"
    if a >= 999.5e6:
        return short(x / 1e9) + "B"
    if a >= 999.5e3:
        return short(x / 1e6) + "M"
    if a >= 999.5:
        return short(x / 1e3) + "K"
    return fmt_number(x)


def fmt_exact(x):
    """Every digit, grouped: 6,738,415,616."""
    if abs(x) < 1e15:
        return fixed(x, 0)
    return fmt_sci(x)


def fmt_sci(x):
    """Scientific notation with three significant figures: 8.40e23."""
    if x != x:
        return "not a number"
    a = abs(x)
    if a == 0:
        return "0"
    if a > 1e300:
        return "too large"
    exponent = 0
    while a >= 10:
        a = a / 10
        exponent = exponent + 1
    while a < 1:
        a = a * 10
        exponent = exponent - 1
    mantissa = fixed(a, 2)
    if mantissa == "10.00":
        mantissa = "1.00"
        exponent = exponent + 1
    sign = ""
    if x < 0:
        sign = "-"
    return sign + mantissa + "e" + int_text(exponent)


def fmt_flops(x):
    return fmt_sci(x)


def fmt_bytes(x):
    """Decimal units as vendors print them, with the binary size that tools report: 13.5 GB (12.6 GiB)."""
    a = abs(x)
    if a >= 999.5e9:
        return short(x / 1e12) + " TB (" + short(x / 1099511627776) + " TiB)"
    if a >= 999.5e6:
        return short(x / 1e9) + " GB (" + short(x / 1073741824) + " GiB)"
    if a >= 999.5e3:
        return short(x / 1e6) + " MB (" + short(x / 1048576) + " MiB)"
    if a >= 999.5:
        return short(x / 1e3) + " KB (" + short(x / 1024) + " KiB)"
    return fixed(x, 0) + " bytes"


def fmt_money(x):
    """US dollars: cents from a dollar up, about three significant figures below."""
    a = abs(x)
    if a >= 0.995 or a == 0:
        return "$" + fixed(x, 2)
    if a >= 0.09995:
        return "$" + fixed(x, 3)
    if a >= 0.009995:
        return "$" + fixed(x, 4)
    if a >= 0.0009995:
        return "$" + fixed(x, 5)
    if a >= 0.00009995:
        return "$" + fixed(x, 6)
    return "$" + fixed(x, 8)


def fmt_rate(x):
    return short(x)


def fmt_percent(x):
    """A fraction as a percentage: 0.000622 -> 0.0622%."""
    p = x * 100
    a = abs(p)
    if a >= 9.995:
        return fixed(p, 1) + "%"
    if a >= 0.9995:
        return fixed(p, 2) + "%"
    if a >= 0.09995:
        return fixed(p, 3) + "%"
    if a >= 0.009995:
        return fixed(p, 4) + "%"
    return fixed(p, 6) + "%"
