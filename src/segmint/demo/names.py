"""People and places of the demo world: names, regions, cities, sales regions and sales reps.

Everything here is plain data.  Names come in four groups: Finland-Swedish,
Finnish, Swedish (Sweden) and international (English-speaking colleagues and
export customers).  Places use their Swedish names, as a Vasa company's CRM
would.
"""

from __future__ import annotations

from typing import NamedTuple


def _words(text: str) -> tuple[str, ...]:
    """The space-separated words of ``text``."""
    return tuple(text.split())


#: Name groups, indexed by the codes in :data:`NAME_GROUPS`.
FI_SV, FI_FI, SE_SV, INTL = 0, 1, 2, 3
NAME_GROUPS = ("finland_swedish", "finnish", "swedish", "international")

FIRST_NAMES: tuple[tuple[str, ...], ...] = (
    _words(  # Finland-Swedish
        "Anders Johan Mikael Henrik Erik Kristian Fredrik Stefan Patrik Jonas Mats Peter Thomas Niklas Magnus "
        "Kim Christoffer Joakim Robert Tobias Markus Daniel Göran Ulf Bo Håkan Rasmus Oskar Viktor Emil Anna "
        "Maria Johanna Sofia Emma Linda Camilla Annika Sara Malin Catharina Susanne Jessica Petra Ann-Sofie "
        "Helena Carina Pia Ida Elin Frida Matilda Ellen Jenny Marina Eva Gunilla Birgitta Lotta Heidi"
    ),
    _words(  # Finnish
        "Mikko Juha Timo Jari Antti Matti Pekka Sami Ville Tuomas Janne Petri Markku Kari Jukka Heikki Teemu "
        "Jussi Marko Lauri Olli Tero Harri Risto Aki Eero Joni Tapio Juho Arto Laura Anne Päivi Tiina Hanna "
        "Minna Sanna Elina Riikka Satu Kaisa Outi Pirjo Sari Katja Heli Noora Jenni Mervi Anu Terhi Marja "
        "Tuula Leena Hilkka Eveliina Aino Milla Henna Suvi"
    ),
    _words(  # Swedish (Sweden)
        "Lars Karl Per Nils Olof Gustav Sven Björn Jan Magnus Martin Andreas Fredrik Mattias Jonas Linus Hugo "
        "Axel Anton Oscar Karin Kerstin Ingrid Lena Ulrika Åsa Lisa Maja Elsa Klara Sofie Hanna Cecilia "
        "Therese Louise Josefin Amanda Linnea Emelie Agnes"
    ),
    _words(  # international
        "David James Michael Daniel Thomas Paul Mark Richard Stefan Jürgen Lukas Marek Andrei Rahul Arjun "
        "Tomás Lars Ole Kristjan Rein Sarah Emily Julia Elena Olga Katarzyna Priya Ana Nina Ingrid Laura "
        "Sophie Hannah Maria Kadri Liis Silje Ewa Claire Rebecca"
    ),
)

LAST_NAMES: tuple[tuple[str, ...], ...] = (
    _words(  # Finland-Swedish
        "Björklund Nyman Lindqvist Holmström Sjöberg Backman Nyholm Granholm Forsström Wikström Lindholm "
        "Sundqvist Nylund Strömberg Ek Holm Lindén Söderlund Grönroos Sandvik Björkqvist Öhman Mattsson "
        "Östman Blomqvist Åkerlund Kronqvist Hägglund Engström Lassila Westerlund Sundström Rosenqvist "
        "Storbacka Nordling Söderholm Gädda Häggblom Kull Ahlskog Vikström Rönnqvist Kallio-Nyman Sandberg "
        "Vesterback Åström Lillqvist Ekström Bäck Rönnholm Finnäs Byskata Österback Nordström Hoxell Julin "
        "Snickars Wiik Fagerholm Nynäs"
    ),
    _words(  # Finnish
        "Virtanen Korhonen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen Lehtonen "
        "Lehtinen Saarinen Salminen Heinonen Niemi Heikkilä Kinnunen Salonen Turunen Rantanen Pelto Kallio "
        "Peltonen Lahtinen Karjalainen Hiltunen Ketola Laitinen Leinonen Miettinen Tuominen Rinne Huttunen "
        "Ahonen Savolainen Jokinen Kangas Mattila Lindroos Väisänen Seppälä Harju Hakala Kettunen Ojala "
        "Lampinen Honkanen Kivelä Hautala Rautio Yli-Kauppila Kauppinen Saari Kuusisto Vainio Mäki-Petäjä "
        "Takala Koivisto Hietala"
    ),
    _words(  # Swedish (Sweden)
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Pettersson "
        "Jonsson Lindberg Lindström Lundgren Bergström Lundström Axelsson Jakobsson Öberg Hedlund Sandström "
        "Marklund Burman Nordlander Lundqvist Forsberg Wallin Norberg Strand"
    ),
    _words(  # international
        "Smith Brown Wilson Taylor Evans Müller Schmidt Schneider Fischer Weber Kowalski Nowak Petrov Ivanova "
        "Sharma Patel García Martins Tamm Saar Kask Hansen Johansen Berg Murphy O'Brien Novák Horváth Rossi "
        "Dubois"
    ),
)

#: Countries (ISO 3166-1 alpha-2) the demo uses; index = country code.
COUNTRIES = ("FI", "SE", "DE", "NO", "EE")
FI, SE, DE, NO, EE = range(5)


class Region(NamedTuple):
    """A geographic region, its country, its cities, the sales region covering it and its weight."""

    name: str
    country: int
    sales_region: str
    cities: tuple[str, ...]
    weight: float
    swedish_share: float  # share of Swedish speakers among its contacts


REGIONS: tuple[Region, ...] = (
    Region(
        "Österbotten",
        FI,
        "Finland West",
        ("Vasa", "Jakobstad", "Närpes", "Kristinestad", "Korsholm", "Nykarleby", "Malax", "Kaskö"),
        0.30,
        0.62,
    ),
    Region("Mellersta Österbotten", FI, "Finland West", ("Karleby", "Kaustby", "Kronoby"), 0.05, 0.30),
    Region("Södra Österbotten", FI, "Finland West", ("Seinäjoki", "Lappo", "Kauhava", "Alavo"), 0.08, 0.03),
    Region("Satakunta", FI, "Finland West", ("Björneborg", "Raumo", "Kumo"), 0.05, 0.02),
    Region("Nyland", FI, "Finland South", ("Helsingfors", "Esbo", "Vanda", "Borgå", "Lojo", "Raseborg"), 0.12, 0.30),
    Region("Egentliga Finland", FI, "Finland South", ("Åbo", "Salo", "Reso", "Nådendal", "Pargas"), 0.07, 0.15),
    Region("Egentliga Tavastland", FI, "Finland South", ("Tavastehus", "Riihimäki", "Forssa"), 0.03, 0.02),
    Region("Birkaland", FI, "Finland Central", ("Tammerfors", "Nokia", "Ylöjärvi", "Kangasala"), 0.08, 0.02),
    Region("Mellersta Finland", FI, "Finland Central", ("Jyväskylä", "Äänekoski", "Jämsä"), 0.03, 0.01),
    Region("Norra Österbotten", FI, "Finland North", ("Uleåborg", "Brahestad", "Ylivieska"), 0.04, 0.01),
    Region("Västerbotten", SE, "Sweden North", ("Umeå", "Skellefteå", "Lycksele", "Vännäs"), 0.06, 0.97),
    Region("Norrbotten", SE, "Sweden North", ("Luleå", "Piteå", "Kiruna", "Boden"), 0.03, 0.97),
    Region("Västernorrland", SE, "Sweden North", ("Sundsvall", "Örnsköldsvik", "Härnösand"), 0.03, 0.97),
    Region("Stockholm", SE, "Sweden South", ("Stockholm", "Södertälje", "Solna"), 0.015, 0.95),
    Region("Västra Götaland", SE, "Sweden South", ("Göteborg", "Borås", "Trollhättan"), 0.015, 0.95),
    Region("Bayern", DE, "Export", ("München", "Nürnberg", "Augsburg"), 0.008, 0.0),
    Region("Trøndelag", NO, "Export", ("Trondheim", "Steinkjer"), 0.006, 0.0),
    Region("Harjumaa", EE, "Export", ("Tallinn", "Maardu"), 0.006, 0.0),
)

SALES_REGIONS = (
    "Finland West",
    "Finland South",
    "Finland Central",
    "Finland North",
    "Sweden North",
    "Sweden South",
    "Export",
)

#: The sales reps (and account managers) of each sales region.
SALES_REPS: dict[str, tuple[str, ...]] = {
    "Finland West": ("Johan Nyström", "Maria Lindholm", "Mikael Backlund"),
    "Finland South": ("Anna Virtanen", "Patrik Sundqvist"),
    "Finland Central": ("Jari Mäkelä", "Sanna Koskinen"),
    "Finland North": ("Timo Heikkinen",),
    "Sweden North": ("Erik Lundström", "Karin Öberg"),
    "Sweden South": ("Lars Bergqvist",),
    "Export": ("Thomas Wikström",),
}

#: Every sales rep once, in a fixed order (index = owner code).
OWNERS: tuple[str, ...] = tuple(rep for region in SALES_REGIONS for rep in SALES_REPS[region])

#: Phone prefixes per country (mobile numbers).
PHONE_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("+358 40", "+358 41", "+358 44", "+358 45", "+358 50", "+358 46"),
    ("+46 70", "+46 72", "+46 73", "+46 76"),
    ("+49 151", "+49 160", "+49 170"),
    ("+47 91", "+47 95", "+47 41"),
    ("+372 51", "+372 53", "+372 56"),
)

#: Free-mail domains of web-shop consumers.
FREEMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "luukku.com", "icloud.com")
FREEMAIL_WEIGHTS = (0.46, 0.18, 0.12, 0.06, 0.08, 0.10)

_ASCII = str.maketrans(
    {
        "å": "a",
        "ä": "a",
        "ö": "o",
        "ø": "o",
        "æ": "ae",
        "ü": "u",
        "é": "e",
        "á": "a",
        "í": "i",
        "ó": "o",
        "ú": "u",
        "č": "c",
        "š": "s",
        "ž": "z",
        "ł": "l",
        "ß": "ss",
        "'": "",
        " ": "",
    }
)


def slug(text: str) -> str:
    """Lower-case ASCII form of a name, fit for an email address or a domain.

    >>> slug("Mäki-Petäjä")
    'maki-petaja'
    >>> slug("O'Brien")
    'obrien'
    """
    return text.lower().translate(_ASCII)
