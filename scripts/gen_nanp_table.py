#!/usr/bin/env python3
"""Generates crates/core/src/nanp/area_codes.rs: NANP area code -> country, state or
province, and IANA time zones.

Source: the PyPI package `phonenumbers` (Google's libphonenumber data):
- zones: every time zone libphonenumber lists under the area code's prefixes ("1415",
  "1270202", ...), so an area code split between two zones (270: western Kentucky is
  Central, the east Eastern) lists both and the gate keeps the narrowest window;
- state/province: the English geocoder description of the area code ("California",
  "New York, NY"), else the most common state among its exchanges' descriptions; US
  territories (PR, VI, GU, AS, MP) use their own code; an area code shared by several
  provinces ("Nova Scotia/Prince Edward Island") gets none rather than a wrong one;
- country: the region of the first valid number found in the area code.
Area codes with neither a zone nor a state (toll-free 8XX, 5XX, 900, unassigned) are
left out: the gate treats them like any number without area-code data.

Run once and commit the output; the server never needs Python:

    python3 -m venv /tmp/genvenv && /tmp/genvenv/bin/pip install phonenumbers
    /tmp/genvenv/bin/python scripts/gen_nanp_table.py
"""

import collections
import pathlib
import re
import sys
from importlib import metadata

import phonenumbers
from phonenumbers.geodata import GEOCODE_DATA
from phonenumbers.tzdata import TIMEZONE_DATA

def by_area_code(data):
    """Prefix tables of NANP numbers ("1415", "1270202", ...) grouped by their area code."""
    groups = collections.defaultdict(list)
    for prefix, value in data.items():
        if prefix.startswith("1") and len(prefix) >= 4:
            groups[prefix[1:4]].append((prefix, value))
    return groups


GEOCODE = by_area_code(GEOCODE_DATA)
TIMEZONES = by_area_code(TIMEZONE_DATA)

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/core/src/nanp/area_codes.rs"

STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK",
    "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC",
    "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT",
    "Virginia": "VA", "Washington": "WA", "Washington State": "WA", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY", "Washington D.C.": "DC",
    "Alberta": "AB", "British Columbia": "BC", "British Colombia": "BC", "Manitoba": "MB",
    "New Brunswick": "NB", "Newfoundland and Labrador": "NL", "Nova Scotia": "NS",
    "Ontario": "ON", "Prince Edward Island": "PE", "Quebec": "QC", "Saskatchewan": "SK",
}
US_TERRITORIES = {"PR", "VI", "GU", "AS", "MP"}
# Descriptions naming several provinces: no single one is right.
SHARED = {"Nova Scotia/Prince Edward Island", "Northwest Territories/Nunavut/Yukon"}


def state_of(description):
    """Two-letter code of a description: "Florida" -> FL, "Palm Beach, FL" -> FL."""
    if description in STATES:
        return STATES[description]
    match = re.search(r", ([A-Z]{2})$", description or "")
    return match.group(1) if match else None


def area_code_state(npa, region):
    if region in US_TERRITORIES:
        return region
    key = f"1{npa}"
    own = GEOCODE_DATA.get(key, {}).get("en")
    if own in SHARED:
        return None
    if own:
        code = state_of(own)
        if code is None:
            sys.exit(f"area code {npa}: unknown description {own!r}; extend STATES")
        return code
    exchanges = collections.Counter(
        state_of(names.get("en")) for prefix, names in GEOCODE[str(npa)] if prefix != key
    )
    exchanges.pop(None, None)
    return exchanges.most_common(1)[0][0] if exchanges else None


def area_code_zones(npa):
    return sorted({zone for _, zones in TIMEZONES[str(npa)] for zone in zones})


def sample_region(npa):
    """Region code of the first valid number in the area code, or None."""
    for exchange in range(201, 1000):
        for line in ("4567", "0100", "2671"):
            number = phonenumbers.parse(f"+1{npa}{exchange}{line}")
            if phonenumbers.is_valid_number(number):
                return phonenumbers.region_code_for_number(number)
    return None


def rust_variant(iana):
    """chrono-tz's variant name of an IANA zone: `America/Port-au-Prince` ->
    `America__PortauPrince`, `Etc/GMT+12` -> `Etc__GMTPlus12`."""
    name = iana.replace("/", "__").replace("+", "Plus")
    name = re.sub(r"-(?=\d)", "Minus", name)
    return "Tz::" + name.replace("-", "")


def rust_entry(npa):
    region = sample_region(npa)
    zones = area_code_zones(npa)
    state = area_code_state(npa, region) if region else None
    if region is None or not (zones or state):
        return None
    state_literal = f'Some("{state}")' if state else "None"
    zone_list = ", ".join(rust_variant(zone) for zone in zones)
    return f'({npa}, entry("{region}", {state_literal}, &[{zone_list}])),'


def main():
    version = metadata.version("phonenumbers")
    entries = [entry for entry in (rust_entry(npa) for npa in range(200, 1000)) if entry]
    known = len(entries)
    lines = [
        "//! NANP area codes with their country, state or province, and IANA zones, sorted by",
        f"//! NPA. Generated by scripts/gen_nanp_table.py from phonenumbers {version}; do not edit.",
        "",
        "use chrono_tz::Tz;",
        "",
        "use super::{AreaCodeInfo, entry};",
        "",
        f"/// The {known} area codes with data, by NPA; the others have none. One line each, as generated.",
        "#[rustfmt::skip]",
        "pub(super) static AREA_CODES: &[(u16, AreaCodeInfo)] = &[",
    ]
    lines += [f"    {entry}" for entry in entries]
    lines.append("];")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {known} area codes to {OUT}")


if __name__ == "__main__":
    main()
