"""What the demo company sells and how people describe themselves: plain data.

The demo company is a fluid-power and electrical-systems manufacturer in Vasa
("Kvarken Fluidtech") that also runs an outdoor web shop.  This module holds
its industries, roles and job titles, interest topics, web pages, products,
downloadable assets, search terms, forms and the technical vocabularies
(user agents, bounce reasons) that email events carry.
"""

from __future__ import annotations

from typing import NamedTuple

SITE = "https://www.kvarkenfluidtech.fi"

#: Languages (ISO 639-1); index = language code.
LANGUAGES = ("sv", "fi", "en")
SV, FIN, EN = range(3)

#: Interest topics.  The first three are the industrial ones, the rest the web shop's categories.
TOPICS = ("hydraulics", "pneumatics", "electrical", "fishing", "camping", "running", "service", "delivery")
HYDRAULICS, PNEUMATICS, ELECTRICAL, FISHING, CAMPING, RUNNING, SERVICE, DELIVERY = range(8)
INDUSTRIAL = (HYDRAULICS, PNEUMATICS, ELECTRICAL)
OUTDOOR = (FISHING, CAMPING, RUNNING)

#: Industries and their sub-industries, with a weight and the typical interest topic.
INDUSTRIES: tuple[tuple[str, tuple[str, ...], float, int], ...] = (
    ("manufacturing", ("machinery", "metal_products", "boat_building", "plastics"), 0.26, HYDRAULICS),
    ("energy", ("wind_power", "power_plants", "grid_services"), 0.10, ELECTRICAL),
    ("forestry", ("sawmills", "pulp_and_paper", "forest_machinery"), 0.10, HYDRAULICS),
    ("marine", ("shipyards", "ports", "offshore"), 0.08, HYDRAULICS),
    ("food_processing", ("dairy", "meat", "bakery", "beverages"), 0.09, PNEUMATICS),
    ("construction", ("infrastructure", "building_contractors", "cranes_and_lifting"), 0.09, HYDRAULICS),
    ("agriculture", ("greenhouses", "farm_machinery", "fur_and_livestock"), 0.07, PNEUMATICS),
    ("mining", ("mining_equipment", "quarrying"), 0.04, HYDRAULICS),
    ("automation", ("system_integrators", "robotics", "packaging_machines"), 0.08, ELECTRICAL),
    ("public_sector", ("municipalities", "water_utilities"), 0.04, ELECTRICAL),
    ("wholesale", ("industrial_distribution", "hydraulic_resellers"), 0.05, HYDRAULICS),
)
WHOLESALE = len(INDUSTRIES) - 1

#: Words for company names, by language of the name (sv, fi, en) and industry.
NAME_WORDS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (
        ("Mekaniska", "Maskin", "Metall", "Verkstad", "Båtvarv", "Plast"),
        ("Energi", "Vind", "Kraft"),
        ("Trä", "Sågverk", "Skog"),
        ("Varv", "Hamn", "Marin"),
        ("Mejeri", "Livs", "Bageri"),
        ("Bygg", "Lyft", "Entreprenad"),
        ("Odling", "Lantbruk", "Växthus"),
        ("Gruv", "Sten"),
        ("Automation", "Robotik", "System"),
        ("Vatten", "Kommunalteknik"),
        ("Hydraulik", "Teknik", "Industri"),
    ),
    (
        ("Konepaja", "Kone", "Metalli", "Teräs", "Vene", "Muovi"),
        ("Energia", "Tuulivoima", "Voima"),
        ("Saha", "Puu", "Metsä"),
        ("Telakka", "Satama", "Meri"),
        ("Meijeri", "Elintarvike", "Leipomo"),
        ("Rakennus", "Nosto", "Urakointi"),
        ("Maatalous", "Kasvihuone", "Tila"),
        ("Kaivos", "Kivi"),
        ("Automaatio", "Robotiikka", "Järjestelmät"),
        ("Vesi", "Kunnallistekniikka"),
        ("Hydrauliikka", "Tekniikka"),
    ),
    (
        ("Engineering", "Machinery", "Steel", "Works", "Marine", "Plastics"),
        ("Energy", "Wind", "Power"),
        ("Timber", "Sawmill", "Forest"),
        ("Shipyard", "Port", "Marine"),
        ("Dairy", "Foods", "Bakery"),
        ("Construction", "Lifting", "Contracting"),
        ("Agro", "Greenhouse", "Farming"),
        ("Mining", "Stone"),
        ("Automation", "Robotics", "Systems"),
        ("Water", "Utilities"),
        ("Hydraulics", "Technology", "Industrial"),
    ),
)

#: Roles: name, seniority, job titles in (sv, fi, en).
ROLES: tuple[tuple[str, str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]], ...] = (
    ("ceo", "c_level", (("VD", "Verkställande direktör"), ("Toimitusjohtaja",), ("CEO", "Managing Director"))),
    (
        "cfo",
        "c_level",
        (
            ("Ekonomichef", "Ekonomidirektör", "CFO"),
            ("Talousjohtaja", "Talouspäällikkö"),
            ("CFO", "Chief Financial Officer", "Finance Director"),
        ),
    ),
    (
        "it_manager",
        "manager",
        (("IT-chef", "IT-ansvarig"), ("IT-päällikkö", "Tietohallintopäällikkö"), ("IT Manager", "Head of IT")),
    ),
    (
        "purchaser",
        "individual",
        (("Inköpare", "Inköpsansvarig"), ("Ostaja", "Hankinta-asiantuntija"), ("Buyer", "Purchasing Specialist")),
    ),
    (
        "engineer",
        "individual",
        (
            ("Konstruktör", "Ingenjör", "Designingenjör"),
            ("Suunnitteluinsinööri", "Insinööri"),
            ("Design Engineer", "Mechanical Engineer"),
        ),
    ),
    (
        "production_manager",
        "manager",
        (
            ("Produktionschef", "Fabrikschef"),
            ("Tuotantopäällikkö", "Tehtaanjohtaja"),
            ("Production Manager", "Plant Manager"),
        ),
    ),
    ("maintenance_manager", "manager", (("Underhållschef",), ("Kunnossapitopäällikkö",), ("Maintenance Manager",))),
    ("sales_manager", "manager", (("Försäljningschef",), ("Myyntipäällikkö",), ("Sales Manager",))),
    ("project_manager", "manager", (("Projektledare",), ("Projektipäällikkö",), ("Project Manager",))),
    (
        "technician",
        "individual",
        (("Servicetekniker", "Montör"), ("Huoltoteknikko", "Asentaja"), ("Service Technician",)),
    ),
    (
        "marketing_manager",
        "manager",
        (("Marknadschef", "Marknadsansvarig"), ("Markkinointipäällikkö",), ("Marketing Manager",)),
    ),
    ("hr_manager", "manager", (("Personalchef", "HR-chef"), ("Henkilöstöpäällikkö", "HR-päällikkö"), ("HR Manager",))),
)
ROLE_NAMES = tuple(r[0] for r in ROLES)
SENIORITIES = ("c_level", "manager", "individual")
#: Role weights in small (< 20 employees), mid and large (> 250) companies and at resellers.
ROLE_WEIGHTS = (
    (0.30, 0.05, 0.01, 0.15, 0.16, 0.12, 0.08, 0.06, 0.02, 0.03, 0.02, 0.00),
    (0.06, 0.06, 0.05, 0.16, 0.21, 0.13, 0.10, 0.07, 0.07, 0.06, 0.02, 0.01),
    (0.02, 0.04, 0.07, 0.15, 0.24, 0.12, 0.10, 0.08, 0.08, 0.06, 0.02, 0.02),
    (0.15, 0.03, 0.02, 0.21, 0.08, 0.02, 0.02, 0.35, 0.03, 0.05, 0.03, 0.01),
)


class Product(NamedTuple):
    """A web-shop product."""

    sku: str
    name: str
    slug: str
    price: float


#: Web-shop products per outdoor category (fishing, camping, running).
SHOP_PRODUCTS: tuple[tuple[Product, ...], ...] = (
    (
        Product("FSH-1001", "Spinnspö 2,4 m", "spinning-rod-240", 89.0),
        Product("FSH-1002", "Haspelrulle 3000", "spinning-reel-3000", 64.9),
        Product("FSH-1003", "Gäddwobbler 3-pack", "pike-lure-3-pack", 24.9),
        Product("FSH-1004", "Flugspö klass 6", "fly-rod-6wt", 179.0),
        Product("FSH-1005", "Vadarbyxor", "waders", 149.0),
        Product("FSH-1006", "Pimpelset", "ice-fishing-set", 39.9),
        Product("FSH-1007", "Fiskeväst", "fishing-vest", 59.0),
        Product("FSH-1008", "Flätlina 150 m", "braided-line-150", 19.9),
    ),
    (
        Product("CMP-2001", "Tält 2 personer", "tent-2p", 229.0),
        Product("CMP-2002", "Sovsäck -5 °C", "sleeping-bag-minus5", 119.0),
        Product("CMP-2003", "Liggunderlag", "sleeping-pad", 49.9),
        Product("CMP-2004", "Stormkök", "camp-stove", 79.0),
        Product("CMP-2005", "Ryggsäck 45 l", "backpack-45", 139.0),
        Product("CMP-2006", "Pannlampa", "headlamp", 34.9),
        Product("CMP-2007", "Hängmatta", "hammock", 44.9),
        Product("CMP-2008", "Vattenfilter", "water-filter", 39.0),
    ),
    (
        Product("RUN-3001", "Löparskor terräng", "trail-running-shoes", 139.0),
        Product("RUN-3002", "Löparskor asfalt", "road-running-shoes", 129.0),
        Product("RUN-3003", "Löpartights", "running-tights", 59.0),
        Product("RUN-3004", "Löparjacka", "running-jacket", 99.0),
        Product("RUN-3005", "Vattenflaska 0,6 l", "water-bottle", 14.9),
        Product("RUN-3006", "Pulsklocka", "gps-watch", 249.0),
        Product("RUN-3007", "Reflexväst", "reflective-vest", 19.9),
        Product("RUN-3008", "Löparväst", "running-vest", 79.0),
    ),
)

#: Industrial product lines per industrial topic (page slugs under /products/<topic>/).
PRODUCT_LINES: tuple[tuple[str, ...], ...] = (
    ("cylinders", "pumps", "valves", "power-units", "hoses-and-fittings"),
    ("cylinders", "valves", "air-treatment", "compressors", "fittings"),
    ("control-cabinets", "motor-drives", "sensors", "plc-systems", "cable-systems"),
)

#: Blog posts per industrial topic.
BLOG_POSTS: tuple[tuple[str, ...], ...] = (
    ("choosing-the-right-hydraulic-cylinder", "hydraulic-oil-contamination", "energy-efficient-power-units"),
    ("reducing-compressed-air-leaks", "pneumatics-in-food-processing", "valve-terminals-explained"),
    ("retrofitting-control-cabinets", "variable-speed-drives-save-energy", "iec-61439-in-practice"),
)

#: Other pages: (path, title).  Grouped by the page classes the web model draws from.
HOME = (("/", "Kvarken Fluidtech – hydraulik, pneumatik och el"),)
PRICING = (("/pricing", "Priser och offert"),)
SERVICE_PAGES = (
    ("/service", "Service och underhåll"),
    ("/service/maintenance-contracts", "Serviceavtal"),
    ("/service/spare-parts", "Reservdelar"),
    ("/service/delivery", "Leveranser och frakt"),
)
COMPANY_PAGES = (
    ("/about", "Om oss"),
    ("/contact", "Kontakta oss"),
    ("/careers", "Jobba hos oss"),
    ("/references", "Referenser"),
    ("/partners", "Återförsäljare"),
)
RESOURCE_PAGES = (
    ("/downloads", "Material och broschyrer"),
    ("/webinars", "Webbinarier"),
    ("/events/alihankinta-2026", "Möt oss på Alihankinta"),
)
SHOP_HOME = (("/shop", "Webbutik – friluftsliv"),)

#: Forms: (form_id, url).
FORMS = (
    ("demo_request", "/demo"),
    ("contact_form", "/contact"),
    ("quote_request", "/pricing"),
    ("webinar_registration", "/webinars"),
    ("newsletter_signup", "/newsletter"),
    ("partner_application", "/partners"),
)
FORM_WEIGHTS = (0.22, 0.34, 0.20, 0.14, 0.07, 0.03)

#: Downloadable assets per industrial topic.
ASSETS: tuple[tuple[str, ...], ...] = (
    ("Hydraulikkatalog 2026.pdf", "Whitepaper: Energy-efficient hydraulics.pdf", "Datablad HC-serien.pdf"),
    ("Pneumatiikkaluettelo 2026.pdf", "Guide: Tryckluftsläckage.pdf", "Datasheet valve terminal VT-40.pdf"),
    ("Elkatalog ställverk.pdf", "ROI calculator drives.xlsx", "Whitepaper: IEC 61439.pdf"),
)

#: Search terms per industrial topic (sv, fi, en mixed) and per outdoor category.
SEARCHES: tuple[tuple[str, ...], ...] = (
    (
        "hydraulcylinder",
        "hydrauliikkasylinteri",
        "hydraulic pump",
        "hydraulaggregat",
        "slangkoppling",
        "hydrauliikkaletku",
        "proportional valve",
    ),
    ("pneumatikcylinder", "paineilmaventtiili", "tryckluft", "valve terminal", "kompressori", "luftfilter"),
    ("ställverk", "sähkökeskus", "frekvensomriktare", "taajuusmuuttaja", "plc", "givare", "motor drive"),
    ("spinnspö", "gäddwobbler", "pilkki", "vadarbyxor", "fly rod"),
    ("tält", "teltta", "sovsäck", "makuupussi", "stormkök"),
    ("löparskor", "juoksukengät", "pulsklocka", "running tights"),
)

#: Email user agents: privacy proxies and scanners (machine opens), then people's mail clients.
MACHINE_AGENTS = (
    "Mozilla/5.0",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Mozilla/5.0 (compatible; Microsoft Defender for Office 365 Safe Links)",
    "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
)
MACHINE_AGENT_WEIGHTS = (0.62, 0.18, 0.14, 0.06)
HUMAN_AGENTS = (
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0 Mobile",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
)
HUMAN_AGENT_WEIGHTS = (0.42, 0.22, 0.18, 0.12, 0.06)

BOUNCE_REASONS = (
    (
        "550 5.1.1 The email account that you tried to reach does not exist",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found",
        "550 5.2.1 Mailbox disabled, not accepting messages",
    ),
    (
        "452 4.2.2 The email account that you tried to reach is over quota",
        "421 4.7.0 Temporary System Problem. Try again later",
        "Auto-reply: out of office",
        "450 4.2.1 Mailbox temporarily unavailable",
    ),
)
UNSUBSCRIBE_REASONS = ("too_many_emails", "not_relevant", "never_signed_up", "other")

#: Page-view traffic sources: (referrer, utm_source, utm_medium, utm_campaign or None) and weights.
TRAFFIC = (
    (None, None, None, None),
    ("https://www.google.com/", None, None, None),
    ("https://www.google.com/", "google", "cpc", "search-industrial-2026"),
    ("https://www.linkedin.com/", "linkedin", "social", "linkedin-abm"),
    ("https://www.bing.com/", None, None, None),
    ("https://www.vasabladet.fi/", None, None, None),
    ("https://www.facebook.com/", "facebook", "social", "outdoor-season"),
    ("https://www.google.com/", "google", "cpc", "search-outdoor"),
)
TRAFFIC_WEIGHTS_B2B = (0.38, 0.30, 0.12, 0.10, 0.04, 0.06, 0.0, 0.0)
TRAFFIC_WEIGHTS_SHOP = (0.30, 0.25, 0.0, 0.0, 0.03, 0.02, 0.20, 0.20)

TICKET_SEVERITIES = ("low", "medium", "high", "critical")
TICKET_SEVERITY_WEIGHTS = (0.40, 0.38, 0.17, 0.05)
ACTIVITY_KINDS = ("call", "email", "meeting")
ACTIVITY_KIND_WEIGHTS = (0.45, 0.40, 0.15)

DEAL_STAGES = ("qualification", "proposal", "negotiation", "closed_won", "closed_lost")
OPEN_STAGE_WEIGHTS = (0.40, 0.35, 0.25)

SOURCES = ("organic_search", "paid_search", "social", "referral", "direct", "event", "import", "webshop")
SOURCE_WEIGHTS_B2B = (0.24, 0.09, 0.08, 0.12, 0.09, 0.16, 0.22, 0.0)
SOURCE_WEIGHTS_SHOP = (0.12, 0.14, 0.10, 0.02, 0.04, 0.0, 0.0, 0.58)
CONSENT_SOURCES = ("webform", "import", "trade_fair", "webshop_checkout", "sales_meeting")

MONTHS = (
    (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
    (
        "tammikuu",
        "helmikuu",
        "maaliskuu",
        "huhtikuu",
        "toukokuu",
        "kesäkuu",
        "heinäkuu",
        "elokuu",
        "syyskuu",
        "lokakuu",
        "marraskuu",
        "joulukuu",
    ),
    (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
)

#: Email headlines per campaign theme, each in (sv, fi, en).
HEADLINES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "newsletter": (
        ("Nyheter från fabriken i Vasa", "Uutisia Vaasan tehtaalta", "News from our Vasa plant"),
        ("Så sänker du energikostnaderna", "Näin pienennät energiakustannuksia", "How to cut energy costs"),
        (
            "Kundcase: nytt aggregat till sågverket",
            "Asiakastarina: uusi koneikko sahalle",
            "Customer story: a new power unit for a sawmill",
        ),
        ("Leveranstider och nya produkter", "Toimitusajat ja uudet tuotteet", "Delivery times and new products"),
    ),
    "hydraulics": (
        ("Nytt inom hydraulik", "Uutta hydrauliikassa", "What's new in hydraulics"),
        ("Hydraulcylindrar på lager", "Hydrauliikkasylinterit varastossa", "Hydraulic cylinders in stock"),
    ),
    "pneumatics": (
        ("Nytt inom pneumatik", "Uutta pneumatiikassa", "What's new in pneumatics"),
        ("Minska tryckluftsläckaget", "Vähennä paineilmavuotoja", "Stop compressed-air leaks"),
    ),
    "electrical": (
        ("Nytt inom elsystem", "Uutta sähköjärjestelmissä", "What's new in electrical systems"),
        ("Ställverk enligt IEC 61439", "Sähkökeskukset IEC 61439 mukaan", "Switchgear to IEC 61439"),
    ),
    "webinar": (("Webbinarium: ", "Webinaari: ", "Webinar: "),),
    "partner": (
        (
            "Partnernytt: prislista och kampanjer",
            "Kumppaniuutiset: hinnasto ja kampanjat",
            "Partner update: price list and campaigns",
        ),
    ),
    "winback": (
        (
            "Vi saknar dig – 15 % på nästa beställning",
            "Kaipaamme sinua – 15 % seuraavasta tilauksesta",
            "We miss you – 15% off your next order",
        ),
    ),
    "fair": (
        (
            "Möt oss på Alihankinta i Tammerfors",
            "Tapaa meidät Alihankinta-messuilla Tampereella",
            "Meet us at the Subcontracting Fair in Tampere",
        ),
    ),
    "fishing": (("Fiskesäsongen är här", "Kalastuskausi alkaa", "Fishing season is here"),),
    "camping": (("Allt för tältturen", "Kaikki telttaretkelle", "Everything for your camping trip"),),
    "running": (("Nya löparskor för hösten", "Uudet juoksukengät syksyyn", "New running shoes for autumn"),),
}
