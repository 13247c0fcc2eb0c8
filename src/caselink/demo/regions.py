"""The regions backgrounds are generated for: neighbourhood centres, recurring sites, population mix.

Coordinates are public centres of real neighbourhoods and landmarks (rounded; no addresses).  Weights
are approximate resident populations in thousands (ONS / NRS / US Census estimates, rounded), so
deaths at home fall where people live.  Ethnicity shares are census figures rounded to the
categories a death report records (estimate where categories differ, e.g. the US "Hispanic").
"""

from __future__ import annotations

from caselink.demo.places import Neighbourhood as N
from caselink.demo.places import Region
from caselink.demo.places import Site as S

_EAST_HOODS = (
    N("Barking", "Barking and Dagenham", 51.5396, 0.0810, 55, 1.4),
    N("Becontree", "Barking and Dagenham", 51.5530, 0.1290, 70, 1.8),
    N("Dagenham", "Barking and Dagenham", 51.5450, 0.1650, 50, 1.5),
    N("Chadwell Heath", "Barking and Dagenham", 51.5680, 0.1290, 25, 1.0),
    N("Stratford", "Newham", 51.5416, -0.0036, 55, 1.2),
    N("East Ham", "Newham", 51.5383, 0.0520, 60, 1.2),
    N("Forest Gate", "Newham", 51.5490, 0.0240, 50, 1.0),
    N("Canning Town", "Newham", 51.5140, 0.0080, 45, 1.2),
    N("Plaistow", "Newham", 51.5310, 0.0170, 45, 1.0),
    N("Beckton", "Newham", 51.5150, 0.0600, 30, 1.2),
    N("Manor Park", "Newham", 51.5500, 0.0460, 40, 1.0),
    N("Whitechapel", "Tower Hamlets", 51.5190, -0.0600, 50, 0.9),
    N("Bethnal Green", "Tower Hamlets", 51.5270, -0.0550, 50, 1.0),
    N("Bow", "Tower Hamlets", 51.5290, -0.0200, 40, 1.0),
    N("Poplar", "Tower Hamlets", 51.5080, -0.0170, 45, 1.0),
    N("Stepney", "Tower Hamlets", 51.5190, -0.0430, 40, 0.9),
    N("Isle of Dogs", "Tower Hamlets", 51.4950, -0.0150, 45, 1.0),
    N("Hackney Central", "Hackney", 51.5470, -0.0560, 50, 1.0),
    N("Dalston", "Hackney", 51.5460, -0.0750, 45, 0.9),
    N("Stoke Newington", "Hackney", 51.5620, -0.0740, 45, 1.0),
    N("Homerton", "Hackney", 51.5470, -0.0420, 35, 0.9),
    N("Clapton", "Hackney", 51.5600, -0.0560, 40, 1.0),
    N("Hoxton", "Hackney", 51.5320, -0.0800, 45, 0.9),
    N("Walthamstow", "Waltham Forest", 51.5830, -0.0200, 100, 1.6),
    N("Leyton", "Waltham Forest", 51.5600, -0.0110, 60, 1.2),
    N("Leytonstone", "Waltham Forest", 51.5680, 0.0080, 55, 1.2),
    N("Chingford", "Waltham Forest", 51.6320, 0.0000, 55, 1.4),
    N("Ilford", "Redbridge", 51.5590, 0.0740, 80, 1.4),
    N("Seven Kings", "Redbridge", 51.5640, 0.0970, 45, 1.0),
    N("Goodmayes", "Redbridge", 51.5650, 0.1110, 40, 1.0),
    N("Wanstead", "Redbridge", 51.5750, 0.0280, 35, 1.0),
    N("Woodford", "Redbridge", 51.6070, 0.0340, 45, 1.4),
    N("Barkingside", "Redbridge", 51.5860, 0.0880, 50, 1.4),
    N("Romford", "Havering", 51.5770, 0.1800, 75, 1.6),
    N("Hornchurch", "Havering", 51.5610, 0.2180, 55, 1.4),
    N("Upminster", "Havering", 51.5560, 0.2490, 30, 1.4),
    N("Harold Hill", "Havering", 51.6030, 0.2310, 35, 1.2),
    N("Rainham", "Havering", 51.5170, 0.1900, 25, 1.2),
    N("Collier Row", "Havering", 51.5960, 0.1670, 25, 1.0),
)

_EAST_SITES = (
    S("hostel", "hostel, Whitechapel", 51.51752, -0.06398, "hostel_hotel"),
    S("hostel", "hostel, Stratford", 51.54301, 0.00012, "hostel_hotel"),
    S("hostel", "hostel, Ilford", 51.55802, 0.07003, "hostel_hotel"),
    S("bridge", "Lea Bridge, River Lea", 51.56651, -0.03702, "waterway"),
    S("park", "Victoria Park", 51.53620, -0.03880, "park_open_space"),
    S("park", "Wanstead Flats", 51.55600, 0.02900, "park_open_space"),
    S("park", "Valentines Park, Ilford", 51.56800, 0.06900, "park_open_space"),
    S("park", "Mile End Park", 51.51900, -0.03300, "park_open_space"),
    S("park", "London Fields", 51.54200, -0.06100, "park_open_space"),
    S("park", "Parsloes Park, Becontree", 51.54700, 0.12500, "park_open_space"),
    S("cemetery", "City of London Cemetery", 51.55600, 0.05300, "churchyard_cemetery"),
    S("cemetery", "Tower Hamlets Cemetery Park", 51.52400, -0.02800, "churchyard_cemetery"),
    S("cemetery", "Abney Park Cemetery", 51.56400, -0.07700, "churchyard_cemetery"),
    S("waterway", "Regent's Canal, Mile End", 51.52500, -0.03800, "waterway"),
    S("waterway", "Limehouse Basin", 51.51100, -0.03700, "waterway"),
    S("waterway", "Royal Victoria Dock", 51.50700, 0.03000, "waterway"),
    S("station", "Stratford station", 51.54160, -0.00340, "transport"),
    S("station", "Romford station", 51.57480, 0.18320, "transport"),
    S("station", "Whitechapel station", 51.51950, -0.05970, "transport"),
    S("sauna", "sauna, Hoxton", 51.52900, -0.07900, "other"),
)

_LONDON_ETHNICITY = {"White": 0.54, "Asian": 0.21, "Black": 0.135, "Mixed": 0.057, "Other": 0.058}

EAST_LONDON = Region(
    key="east_london", name="East London", agency="MPS", id_prefix="MPS", tz="Europe/London",
    neighbourhoods=_EAST_HOODS, sites=_EAST_SITES,
    ethnicity={"White": 0.48, "Asian": 0.27, "Black": 0.15, "Mixed": 0.05, "Other": 0.05},
    phone_prefixes=("07700900", "02079460"),
)

_OTHER_LONDON_HOODS = (
    N("Soho", "Westminster", 51.5136, -0.1365, 40, 0.8),
    N("Camden Town", "Camden", 51.5390, -0.1426, 60, 1.0),
    N("Islington", "Islington", 51.5362, -0.1033, 90, 1.2),
    N("Brixton", "Lambeth", 51.4613, -0.1156, 80, 1.2),
    N("Vauxhall", "Lambeth", 51.4860, -0.1230, 45, 0.9),
    N("Peckham", "Southwark", 51.4740, -0.0690, 75, 1.2),
    N("Elephant and Castle", "Southwark", 51.4950, -0.1000, 60, 1.0),
    N("Lewisham", "Lewisham", 51.4615, -0.0130, 110, 1.6),
    N("Woolwich", "Greenwich", 51.4900, 0.0690, 90, 1.6),
    N("Croydon", "Croydon", 51.3762, -0.0982, 160, 2.2),
    N("Tottenham", "Haringey", 51.5880, -0.0720, 90, 1.4),
    N("Wood Green", "Haringey", 51.5970, -0.1090, 70, 1.2),
    N("Harlesden", "Brent", 51.5363, -0.2470, 110, 1.6),
    N("Ealing", "Ealing", 51.5130, -0.3040, 130, 2.0),
    N("Hounslow", "Hounslow", 51.4680, -0.3610, 110, 2.0),
    N("Wandsworth", "Wandsworth", 51.4571, -0.1910, 130, 1.8),
    N("Enfield", "Enfield", 51.6520, -0.0810, 130, 2.2),
    N("Barnet", "Barnet", 51.6500, -0.2000, 150, 2.4),
    N("Harrow", "Harrow", 51.5800, -0.3350, 100, 2.0),
    N("Kingston", "Kingston upon Thames", 51.4120, -0.3000, 70, 1.8),
    N("Bromley", "Bromley", 51.4060, 0.0140, 130, 2.4),
    N("Hammersmith", "Hammersmith and Fulham", 51.4927, -0.2240, 80, 1.2),
    N("North Kensington", "Kensington and Chelsea", 51.5200, -0.2100, 70, 1.0),
    N("Sutton", "Sutton", 51.3618, -0.1945, 80, 1.8),
    N("Bexleyheath", "Bexley", 51.4560, 0.1500, 100, 2.2),
    N("Uxbridge", "Hillingdon", 51.5460, -0.4790, 120, 2.4),
)

_OTHER_LONDON_SITES = (
    S("hostel", "hostel, Vauxhall", 51.48710, -0.12420, "hostel_hotel"),
    S("hostel", "hostel, Camden", 51.53800, -0.14100, "hostel_hotel"),
    S("bridge", "Hungerford Bridge", 51.50620, -0.12000, "waterway"),
    S("park", "Clapham Common", 51.45800, -0.14800, "park_open_space"),
    S("park", "Hampstead Heath", 51.56080, -0.16300, "park_open_space"),
    S("cemetery", "Brompton Cemetery", 51.48400, -0.19000, "churchyard_cemetery"),
    S("station", "King's Cross station", 51.53080, -0.12380, "transport"),
    S("sauna", "sauna, Vauxhall", 51.48550, -0.12290, "other"),
)

LONDON = Region(
    key="london", name="London", agency="MPS", id_prefix="MPS", tz="Europe/London",
    neighbourhoods=_EAST_HOODS + _OTHER_LONDON_HOODS, sites=_EAST_SITES + _OTHER_LONDON_SITES,
    ethnicity=_LONDON_ETHNICITY, phone_prefixes=("07700900", "02079460"),
)

GREATER_MANCHESTER = Region(
    key="greater_manchester", name="Greater Manchester", agency="GMP", id_prefix="GMP", tz="Europe/London",
    neighbourhoods=(
        N("City Centre", "Manchester", 53.4808, -2.2426, 60, 1.0),
        N("Moss Side", "Manchester", 53.4600, -2.2380, 60, 1.0),
        N("Hulme", "Manchester", 53.4670, -2.2490, 45, 0.9),
        N("Cheetham Hill", "Manchester", 53.5030, -2.2390, 50, 1.0),
        N("Gorton", "Manchester", 53.4650, -2.1750, 60, 1.2),
        N("Wythenshawe", "Manchester", 53.3900, -2.2700, 75, 1.8),
        N("Salford", "Salford", 53.4875, -2.2901, 110, 1.8),
        N("Oldham", "Oldham", 53.5409, -2.1114, 130, 2.0),
        N("Rochdale", "Rochdale", 53.6097, -2.1561, 120, 2.0),
        N("Bolton", "Bolton", 53.5769, -2.4282, 150, 2.2),
        N("Wigan", "Wigan", 53.5450, -2.6325, 160, 2.6),
        N("Stockport", "Stockport", 53.4106, -2.1575, 150, 2.4),
        N("Bury", "Bury", 53.5933, -2.2966, 100, 2.0),
        N("Ashton-under-Lyne", "Tameside", 53.4880, -2.0980, 120, 2.0),
        N("Sale", "Trafford", 53.4240, -2.3220, 120, 2.0),
    ),
    sites=(
        S("hostel", "hostel, Ancoats", 53.48380, -2.22800, "hostel_hotel"),
        S("hostel", "hostel, Salford Crescent", 53.48640, -2.27600, "hostel_hotel"),
        S("bridge", "Rochdale Canal lock bridge, Ancoats", 53.48200, -2.22900, "waterway"),
        S("park", "Piccadilly Gardens", 53.48100, -2.23650, "park_open_space"),
        S("park", "Alexandra Park, Moss Side", 53.45200, -2.24500, "park_open_space"),
        S("park", "Queen's Park, Bolton", 53.58000, -2.44500, "park_open_space"),
        S("cemetery", "Southern Cemetery", 53.42700, -2.25400, "churchyard_cemetery"),
        S("waterway", "Rochdale Canal, Canal Street", 53.47700, -2.23500, "waterway"),
        S("waterway", "River Irwell, Salford", 53.48500, -2.25300, "waterway"),
        S("station", "Piccadilly station", 53.47740, -2.23090, "transport"),
        S("sauna", "sauna, Gay Village", 53.47650, -2.23700, "other"),
    ),
    ethnicity={"White": 0.84, "Asian": 0.10, "Black": 0.03, "Mixed": 0.02, "Other": 0.01},
    phone_prefixes=("07700900", "01614960"),
)

GLASGOW = Region(
    key="glasgow", name="Greater Glasgow", agency="Police Scotland", id_prefix="PS-G", tz="Europe/London",
    neighbourhoods=(
        N("City Centre", "Glasgow City", 55.8610, -4.2500, 30, 0.9),
        N("Govan", "Glasgow City", 55.8610, -4.3120, 35, 1.0),
        N("Easterhouse", "Glasgow City", 55.8700, -4.1100, 40, 1.2),
        N("Drumchapel", "Glasgow City", 55.9070, -4.3690, 30, 1.0),
        N("Possilpark", "Glasgow City", 55.8880, -4.2580, 25, 0.9),
        N("Castlemilk", "Glasgow City", 55.8100, -4.2250, 30, 1.0),
        N("Dennistoun", "Glasgow City", 55.8600, -4.2100, 35, 0.9),
        N("Partick", "Glasgow City", 55.8700, -4.3100, 40, 1.0),
        N("Gorbals", "Glasgow City", 55.8480, -4.2500, 30, 0.9),
        N("Springburn", "Glasgow City", 55.8820, -4.2300, 30, 1.0),
        N("Pollok", "Glasgow City", 55.8280, -4.3400, 35, 1.2),
        N("Shettleston", "Glasgow City", 55.8530, -4.1580, 35, 1.1),
        N("Paisley", "Renfrewshire", 55.8456, -4.4239, 80, 1.8),
        N("Clydebank", "West Dunbartonshire", 55.9010, -4.4050, 45, 1.4),
        N("Rutherglen", "South Lanarkshire", 55.8290, -4.2140, 35, 1.2),
    ),
    sites=(
        S("hostel", "hostel, Clyde Place", 55.85500, -4.26200, "hostel_hotel"),
        S("hostel", "hostel, Calton", 55.85400, -4.23500, "hostel_hotel"),
        S("bridge", "Kingston Bridge", 55.85420, -4.27180, "waterway"),
        S("park", "Glasgow Green", 55.85100, -4.23600, "park_open_space"),
        S("park", "Kelvingrove Park", 55.86800, -4.28500, "park_open_space"),
        S("cemetery", "Southern Necropolis", 55.84300, -4.24600, "churchyard_cemetery"),
        S("waterway", "Forth and Clyde Canal, Maryhill", 55.88600, -4.28600, "waterway"),
        S("waterway", "River Clyde, Broomielaw", 55.85700, -4.26300, "waterway"),
        S("station", "Central station", 55.85970, -4.25800, "transport"),
        S("sauna", "sauna, Merchant City", 55.85800, -4.24400, "other"),
    ),
    ethnicity={"White": 0.88, "Asian": 0.08, "Black": 0.02, "Mixed": 0.01, "Other": 0.01},
    phone_prefixes=("07700900", "01414960"),
)

NORFOLK = Region(
    key="norfolk", name="Norfolk", agency="Norfolk Constabulary", id_prefix="NC", tz="Europe/London",
    neighbourhoods=(
        N("Norwich", "Norwich", 52.6309, 1.2974, 200, 3.0),
        N("Great Yarmouth", "Great Yarmouth", 52.6083, 1.7305, 70, 2.0),
        N("King's Lynn", "King's Lynn and West Norfolk", 52.7517, 0.4020, 60, 2.0),
        N("Thetford", "Breckland", 52.4140, 0.7500, 30, 1.6),
        N("Dereham", "Breckland", 52.6810, 0.9400, 25, 1.6),
        N("Wymondham", "South Norfolk", 52.5700, 1.1160, 20, 1.6),
        N("Cromer", "North Norfolk", 52.9310, 1.3020, 15, 1.4),
        N("North Walsham", "North Norfolk", 52.8220, 1.3870, 15, 1.4),
        N("Fakenham", "North Norfolk", 52.8300, 0.8470, 12, 1.4),
        N("Swaffham", "Breckland", 52.6480, 0.6870, 10, 1.4),
        N("Diss", "South Norfolk", 52.3760, 1.1080, 10, 1.4),
        N("Broads villages", "Broadland", 52.7000, 1.5000, 60, 8.0),
        N("Breckland villages", "Breckland", 52.5500, 0.8500, 50, 10.0),
        N("Marshland villages", "King's Lynn and West Norfolk", 52.7000, 0.2500, 40, 9.0),
        N("North Norfolk villages", "North Norfolk", 52.8800, 1.1000, 50, 10.0),
    ),
    sites=(
        S("hostel", "hostel, Norwich city centre", 52.62900, 1.29500, "hostel_hotel"),
        S("hostel", "hostel, Great Yarmouth seafront", 52.60600, 1.73800, "hostel_hotel"),
        S("bridge", "Breydon Bridge, Great Yarmouth", 52.61000, 1.71700, "waterway"),
        S("park", "Chapelfield Gardens, Norwich", 52.62600, 1.28700, "park_open_space"),
        S("park", "Thetford Forest car park", 52.44500, 0.67000, "woodland"),
        S("cemetery", "Rosary Cemetery, Norwich", 52.62800, 1.31200, "churchyard_cemetery"),
        S("waterway", "River Wensum, Norwich", 52.63300, 1.29800, "waterway"),
        S("waterway", "River Great Ouse, King's Lynn", 52.75200, 0.39300, "waterway"),
        S("station", "Norwich station", 52.62700, 1.30700, "transport"),
    ),
    ethnicity={"White": 0.96, "Asian": 0.015, "Black": 0.008, "Mixed": 0.01, "Other": 0.007},
    phone_prefixes=("07700900", "01632960"),
)

BALTIMORE = Region(
    key="baltimore", name="Baltimore City", agency="BPD", id_prefix="BPD", tz="America/New_York",
    neighbourhoods=(
        N("Downtown", "Central", 39.2904, -76.6122, 30, 0.8),
        N("Sandtown-Winchester", "Western", 39.3020, -76.6440, 45, 0.8),
        N("Penn North", "Western", 39.3080, -76.6450, 35, 0.7),
        N("Highlandtown", "Southeastern", 39.2880, -76.5680, 40, 0.8),
        N("Canton", "Southeastern", 39.2800, -76.5760, 30, 0.7),
        N("Fells Point", "Southeastern", 39.2830, -76.5930, 25, 0.6),
        N("Cherry Hill", "Southern", 39.2460, -76.6200, 30, 0.8),
        N("Park Heights", "Northwestern", 39.3430, -76.6700, 55, 1.2),
        N("Hampden", "Northern", 39.3310, -76.6320, 30, 0.8),
        N("Waverly", "Northern", 39.3260, -76.6050, 35, 0.8),
        N("Belair-Edison", "Northeastern", 39.3200, -76.5750, 50, 1.0),
        N("Edmondson Village", "Southwestern", 39.2920, -76.6970, 50, 1.1),
        N("Remington", "Northern", 39.3200, -76.6220, 25, 0.6),
        N("McElderry Park", "Eastern", 39.2990, -76.5840, 35, 0.7),
        N("Brooklyn", "Southern", 39.2290, -76.6000, 35, 1.0),
    ),
    sites=(
        S("hostel", "shelter, Fallsway", 39.29800, -76.60600, "hostel_hotel"),
        S("hostel", "motel, Pulaski Highway", 39.30400, -76.55600, "hostel_hotel"),
        S("bridge", "Hanover Street Bridge", 39.26200, -76.61700, "waterway"),
        S("park", "Druid Hill Park", 39.32250, -76.64400, "park_open_space"),
        S("park", "Patterson Park", 39.29000, -76.58200, "park_open_space"),
        S("cemetery", "Green Mount Cemetery", 39.30700, -76.60600, "churchyard_cemetery"),
        S("waterway", "Inner Harbor", 39.28500, -76.60900, "waterway"),
        S("waterway", "Gwynns Falls", 39.28000, -76.65500, "waterway"),
        S("station", "Penn Station", 39.30730, -76.61560, "transport"),
        S("sauna", "club, Mount Vernon", 39.29900, -76.61600, "other"),
    ),
    ethnicity={"Black": 0.62, "White": 0.28, "Hispanic": 0.05, "Asian": 0.025, "Other": 0.025},
    phone_prefixes=("+141055501", "+144355501", "+166755501"), phone_suffix_digits=2,
)

REGIONS: dict[str, Region] = {
    region.key: region for region in (EAST_LONDON, LONDON, GREATER_MANCHESTER, GLASGOW, NORFOLK, BALTIMORE)
}
