"""Realistic demo data: contacts from every source and channel, known duplicates, related records.

Every column is drawn with numpy and shaped with Polars, and each table is written with one
INSERT ... SELECT, so a million contacts take about a minute rather than an hour. The same seed on
the same database always gives the same data; `demo_truth` says which contacts are one person.
"""

import importlib
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import product
from typing import Any

import duckdb
import numpy as np
import polars as pl
from pydantic import BaseModel

from core.contacts.fields import CHANNELS, SOURCES
from core.db import scalar, transaction
from core.workspace import add_owner, define_custom_field, lead_stages

MICROS_PER_DAY = 86_400_000_000
HISTORY_DAYS = 3 * 365
DUPLICATE_SHARE = 0.09
BRAND_SITE = "https://www.brightwave.io"
HEX = "0123456789abcdef"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class DemoSummary(BaseModel):
    """How many rows the demo wrote, and how long it took."""

    contacts: int
    duplicates: int
    conversations: int
    tickets: int
    notes: int
    media: int
    activity: int
    seconds: float


@dataclass(frozen=True)
class Country:
    """What varies by country: names, phone and address formats, email providers, cities."""

    code: str
    name: str
    locale: str
    weight: float
    language: str
    calling_code: str
    mobile_prefixes: tuple[str, ...]
    subscriber_digits: int
    phone_formats: tuple[str, ...]  # '#' takes the next digit of the national number
    email_domains: Mapping[str, float]
    tld: str
    legal_forms: tuple[str, ...]
    streets: tuple[str, ...]
    address_format: str
    postal_format: str  # after the city's prefix: '#' a digit, '?' a capital letter
    cities: tuple[tuple[str, str, str, str, float], ...]  # city, state, time zone, postal prefix, weight
    messaging: str
    subscriber_floor: int = 0


# Reference data, laid out as tables for reading; the formatter would put one value per line.
# fmt: off
COMMON_DOMAINS = {"gmail.com": 0.42, "yahoo.com": 0.07, "outlook.com": 0.07, "hotmail.com": 0.05, "icloud.com": 0.06}

COUNTRIES: tuple[Country, ...] = (
    Country(
        "US", "United States", "en_US", 0.30, "en-US", "1",
        ("212", "415", "312", "512", "206", "617", "303", "646", "213", "305"), 7,
        ("(###) ###-####", "###-###-####", "+1 ###-###-####", "###.###.####"),
        COMMON_DOMAINS | {"aol.com": 0.02, "comcast.net": 0.02}, "com", ("Inc.", "LLC", "Group", "& Co."),
        ("Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Park Avenue", "Washington Street",
         "Lake Road", "Sunset Boulevard", "Elm Street", "Highland Avenue", "Market Street", "2nd Street"),
        "{n} {street}", "##",
        (("New York", "New York", "America/New_York", "100", 0.2),
         ("Los Angeles", "California", "America/Los_Angeles", "900", 0.12),
         ("Chicago", "Illinois", "America/Chicago", "606", 0.1),
         ("Houston", "Texas", "America/Chicago", "770", 0.08),
         ("San Francisco", "California", "America/Los_Angeles", "941", 0.1),
         ("Austin", "Texas", "America/Chicago", "787", 0.07),
         ("Seattle", "Washington", "America/Los_Angeles", "981", 0.07),
         ("Boston", "Massachusetts", "America/New_York", "021", 0.07),
         ("Denver", "Colorado", "America/Denver", "802", 0.06),
         ("Miami", "Florida", "America/New_York", "331", 0.07),
         ("Phoenix", "Arizona", "America/Phoenix", "850", 0.06)),
        "us", subscriber_floor=2_000_000,
    ),
    Country(
        "GB", "United Kingdom", "en_GB", 0.08, "en-GB", "44", ("7700", "7911", "7400", "7825", "7588"), 6,
        ("0#### ######", "+44 #### ######", "+44 (0)#### ######", "0##########"),
        COMMON_DOMAINS | {"yahoo.co.uk": 0.06, "btinternet.com": 0.04, "sky.com": 0.02}, "co.uk",
        ("Ltd", "PLC", "& Sons"),
        ("High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
         "Park Road", "Queen's Road", "King Street", "Mill Lane"),
        "{n} {street}", " #??",
        (("London", "England", "Europe/London", "EC1A", 0.45), ("Manchester", "England", "Europe/London", "M1", 0.12),
         ("Birmingham", "England", "Europe/London", "B1", 0.1), ("Leeds", "England", "Europe/London", "LS1", 0.07),
         ("Glasgow", "Scotland", "Europe/London", "G1", 0.08), ("Edinburgh", "Scotland", "Europe/London", "EH1", 0.07),
         ("Bristol", "England", "Europe/London", "BS1", 0.06), ("Cardiff", "Wales", "Europe/London", "CF10", 0.05)),
        "europe",
    ),
    Country(
        "DE", "Germany", "de_DE", 0.08, "de-DE", "49", ("151", "160", "170", "176", "152"), 8,
        ("0### ########", "+49 ### ########", "0###/########", "+49 (0) ### ########"),
        COMMON_DOMAINS | {"gmx.de": 0.14, "web.de": 0.13, "t-online.de": 0.05}, "de", ("GmbH", "AG", "KG"),
        ("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schulstraße", "Dorfstraße", "Lindenstraße",
         "Bergstraße", "Goethestraße", "Kirchweg", "Am Markt"),
        "{street} {n}", "###",
        (("Berlin", "Berlin", "Europe/Berlin", "10", 0.25), ("Hamburg", "Hamburg", "Europe/Berlin", "20", 0.15),
         ("München", "Bayern", "Europe/Berlin", "80", 0.15),
         ("Köln", "Nordrhein-Westfalen", "Europe/Berlin", "50", 0.12),
         ("Frankfurt am Main", "Hessen", "Europe/Berlin", "60", 0.1),
         ("Stuttgart", "Baden-Württemberg", "Europe/Berlin", "70", 0.09),
         ("Düsseldorf", "Nordrhein-Westfalen", "Europe/Berlin", "40", 0.08),
         ("Leipzig", "Sachsen", "Europe/Berlin", "04", 0.06)),
        "europe",
    ),
    Country(
        "FR", "France", "fr_FR", 0.06, "fr-FR", "33", ("6", "7"), 8,
        ("0# ## ## ## ##", "+33 # ## ## ## ##", "0#.##.##.##.##", "+33#########"),
        COMMON_DOMAINS | {"orange.fr": 0.1, "free.fr": 0.06, "laposte.net": 0.03, "sfr.fr": 0.03}, "fr",
        ("SARL", "SAS", "SA"),
        ("rue de la République", "avenue Victor Hugo", "rue de la Paix", "boulevard Voltaire", "rue Pasteur",
         "rue Jean Jaurès", "place de la Mairie", "rue des Lilas", "avenue Foch", "rue du Moulin"),
        "{n} {street}", "###",
        (("Paris", "Île-de-France", "Europe/Paris", "75", 0.35),
         ("Lyon", "Auvergne-Rhône-Alpes", "Europe/Paris", "69", 0.14),
         ("Marseille", "Provence-Alpes-Côte d'Azur", "Europe/Paris", "13", 0.12),
         ("Toulouse", "Occitanie", "Europe/Paris", "31", 0.1),
         ("Nice", "Provence-Alpes-Côte d'Azur", "Europe/Paris", "06", 0.08),
         ("Nantes", "Pays de la Loire", "Europe/Paris", "44", 0.07),
         ("Bordeaux", "Nouvelle-Aquitaine", "Europe/Paris", "33", 0.07),
         ("Lille", "Hauts-de-France", "Europe/Paris", "59", 0.07)),
        "europe",
    ),
    Country(
        "ES", "Spain", "es_ES", 0.06, "es-ES", "34", ("6", "7"), 8,
        ("### ## ## ##", "+34 ### ### ###", "### ### ###", "+34 ### ## ## ##"),
        COMMON_DOMAINS | {"hotmail.es": 0.08, "yahoo.es": 0.04, "telefonica.net": 0.02}, "es", ("S.L.", "S.A."),
        ("Calle Mayor", "Calle Real", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gracia",
         "Calle de Alcalá", "Gran Vía", "Calle San Juan", "Plaza Mayor", "Calle Nueva"),
        "{street}, {n}", "###",
        (("Madrid", "Comunidad de Madrid", "Europe/Madrid", "28", 0.32),
         ("Barcelona", "Cataluña", "Europe/Madrid", "08", 0.25),
         ("Valencia", "Comunidad Valenciana", "Europe/Madrid", "46", 0.12),
         ("Sevilla", "Andalucía", "Europe/Madrid", "41", 0.1), ("Bilbao", "País Vasco", "Europe/Madrid", "48", 0.07),
         ("Málaga", "Andalucía", "Europe/Madrid", "29", 0.08),
         ("Las Palmas de Gran Canaria", "Canarias", "Atlantic/Canary", "35", 0.06)),
        "europe",
    ),
    Country(
        "IT", "Italy", "it_IT", 0.04, "it-IT", "39", ("320", "333", "347", "389"), 7,
        ("### ### ####", "+39 ### ### ####", "##########", "+39 ##########"),
        COMMON_DOMAINS | {"libero.it": 0.12, "virgilio.it": 0.04, "alice.it": 0.03}, "it", ("S.r.l.", "S.p.A."),
        ("Via Roma", "Via Garibaldi", "Corso Italia", "Via Dante", "Via Mazzini", "Piazza della Repubblica",
         "Via Verdi", "Via Cavour"),
        "{street}, {n}", "###",
        (("Roma", "Lazio", "Europe/Rome", "00", 0.3), ("Milano", "Lombardia", "Europe/Rome", "20", 0.3),
         ("Napoli", "Campania", "Europe/Rome", "80", 0.12), ("Torino", "Piemonte", "Europe/Rome", "10", 0.12),
         ("Bologna", "Emilia-Romagna", "Europe/Rome", "40", 0.08), ("Firenze", "Toscana", "Europe/Rome", "50", 0.08)),
        "europe",
    ),
    Country(
        "NL", "Netherlands", "nl_NL", 0.03, "nl-NL", "31", ("6",), 8,
        ("0#-########", "+31 # ########", "0# ## ## ## ##", "+31 (0)# ########"),
        COMMON_DOMAINS | {"ziggo.nl": 0.06, "kpnmail.nl": 0.05, "live.nl": 0.03}, "nl", ("B.V.", "N.V."),
        ("Kerkstraat", "Dorpsstraat", "Molenweg", "Schoolstraat", "Stationsweg", "Julianastraat", "Beatrixlaan",
         "Prinsengracht"),
        "{street} {n}", "## ??",
        (("Amsterdam", "Noord-Holland", "Europe/Amsterdam", "10", 0.35),
         ("Rotterdam", "Zuid-Holland", "Europe/Amsterdam", "30", 0.22),
         ("Den Haag", "Zuid-Holland", "Europe/Amsterdam", "25", 0.16),
         ("Utrecht", "Utrecht", "Europe/Amsterdam", "35", 0.15),
         ("Eindhoven", "Noord-Brabant", "Europe/Amsterdam", "56", 0.12)),
        "europe",
    ),
    Country(
        "BR", "Brazil", "pt_BR", 0.08, "pt-BR", "55", ("119", "219", "319", "419"), 8,
        ("(##) #####-####", "+55 ## #####-####", "## #####-####", "+55###########"),
        COMMON_DOMAINS | {"uol.com.br": 0.08, "bol.com.br": 0.05, "terra.com.br": 0.03}, "com.br", ("Ltda.", "S.A."),
        ("Rua das Flores", "Avenida Paulista", "Rua Augusta", "Rua XV de Novembro", "Avenida Brasil",
         "Rua São João", "Rua da Consolação"),
        "{street}, {n}", "###-###",
        (("São Paulo", "São Paulo", "America/Sao_Paulo", "01", 0.38),
         ("Rio de Janeiro", "Rio de Janeiro", "America/Sao_Paulo", "20", 0.22),
         ("Belo Horizonte", "Minas Gerais", "America/Sao_Paulo", "30", 0.12),
         ("Curitiba", "Paraná", "America/Sao_Paulo", "80", 0.1),
         ("Porto Alegre", "Rio Grande do Sul", "America/Sao_Paulo", "90", 0.08),
         ("Salvador", "Bahia", "America/Bahia", "40", 0.06), ("Recife", "Pernambuco", "America/Recife", "50", 0.04)),
        "whatsapp",
    ),
    Country(
        "MX", "Mexico", "es_MX", 0.06, "es-MX", "52", ("55", "33", "81"), 8,
        ("## #### ####", "+52 ## #### ####", "(##) ####-####", "+52##########"),
        COMMON_DOMAINS | {"hotmail.com": 0.12, "prodigy.net.mx": 0.03}, "com.mx", ("S.A. de C.V.", "S. de R.L."),
        ("Avenida Reforma", "Calle Hidalgo", "Avenida Juárez", "Calle Morelos", "Avenida Insurgentes",
         "Calle Madero"),
        "{street} {n}", "###",
        (("Ciudad de México", "Ciudad de México", "America/Mexico_City", "06", 0.4),
         ("Guadalajara", "Jalisco", "America/Mexico_City", "44", 0.18),
         ("Monterrey", "Nuevo León", "America/Monterrey", "64", 0.17),
         ("Puebla", "Puebla", "America/Mexico_City", "72", 0.1),
         ("Tijuana", "Baja California", "America/Tijuana", "22", 0.08),
         ("Cancún", "Quintana Roo", "America/Cancun", "77", 0.07)),
        "whatsapp",
    ),
    Country(
        "IN", "India", "en_IN", 0.08, "en-IN", "91", ("98", "99", "97", "91", "88", "70"), 8,
        ("##### #####", "+91 ##### #####", "0##########", "+91-##########"),
        COMMON_DOMAINS | {"rediffmail.com": 0.06, "yahoo.co.in": 0.05}, "in", ("Pvt. Ltd.", "Ltd."),
        ("MG Road", "Linking Road", "Park Street", "Brigade Road", "Anna Salai", "Station Road", "Nehru Nagar"),
        "{n}, {street}", "####",
        (("Mumbai", "Maharashtra", "Asia/Kolkata", "40", 0.24), ("Delhi", "Delhi", "Asia/Kolkata", "11", 0.22),
         ("Bengaluru", "Karnataka", "Asia/Kolkata", "56", 0.2), ("Hyderabad", "Telangana", "Asia/Kolkata", "50", 0.12),
         ("Chennai", "Tamil Nadu", "Asia/Kolkata", "60", 0.1), ("Pune", "Maharashtra", "Asia/Kolkata", "41", 0.07),
         ("Kolkata", "West Bengal", "Asia/Kolkata", "70", 0.05)),
        "whatsapp",
    ),
    Country(
        "JP", "Japan", "ja_JP", 0.07, "ja-JP", "81", ("90", "80", "70"), 8,
        ("0##-####-####", "+81 ##-####-####", "0##########", "+81-##-####-####"),
        {"gmail.com": 0.35, "yahoo.co.jp": 0.25, "icloud.com": 0.12, "docomo.ne.jp": 0.1, "ezweb.ne.jp": 0.06,
         "outlook.jp": 0.06}, "co.jp", ("Co., Ltd.", "K.K."),
        ("Ginza", "Shibuya", "Umeda", "Sakae", "Minatomirai", "Shinjuku", "Tenjin"),
        "{n}-{m} {street}", "-####",
        (("Tokyo", "Tokyo", "Asia/Tokyo", "150", 0.4), ("Osaka", "Osaka", "Asia/Tokyo", "530", 0.18),
         ("Yokohama", "Kanagawa", "Asia/Tokyo", "220", 0.12), ("Nagoya", "Aichi", "Asia/Tokyo", "460", 0.1),
         ("Sapporo", "Hokkaido", "Asia/Tokyo", "060", 0.07), ("Fukuoka", "Fukuoka", "Asia/Tokyo", "810", 0.07),
         ("Kyoto", "Kyoto", "Asia/Tokyo", "600", 0.06)),
        "line",
    ),
    Country(
        "CN", "China", "zh_CN", 0.06, "zh-CN", "86", ("138", "139", "150", "186", "137"), 8,
        ("### #### ####", "+86 ### #### ####", "###########", "+86-###-####-####"),
        {"qq.com": 0.4, "163.com": 0.22, "126.com": 0.08, "gmail.com": 0.12, "outlook.com": 0.08, "sina.com": 0.1},
        "cn", ("Co., Ltd.", "Group"),
        ("Nanjing Road", "Huaihai Road", "Jianguo Road", "Zhongshan Road", "Renmin Road", "Jiefang Road"),
        "{n} {street}", "####",
        (("Shanghai", "Shanghai", "Asia/Shanghai", "20", 0.28), ("Beijing", "Beijing", "Asia/Shanghai", "10", 0.25),
         ("Shenzhen", "Guangdong", "Asia/Shanghai", "51", 0.16),
         ("Guangzhou", "Guangdong", "Asia/Shanghai", "51", 0.12),
         ("Hangzhou", "Zhejiang", "Asia/Shanghai", "31", 0.1), ("Chengdu", "Sichuan", "Asia/Shanghai", "61", 0.09)),
        "wechat",
    ),
)

# Which messaging apps people in a market write from, for contacts that came in through the inbox.
MESSAGING: dict[str, dict[str, float]] = {
    "us": {"SMS": 0.25, "Facebook": 0.22, "Instagram": 0.22, "email": 0.17, "WhatsApp": 0.12, "Telegram": 0.02},
    "europe": {"WhatsApp": 0.4, "Instagram": 0.18, "Facebook": 0.15, "email": 0.15, "Telegram": 0.07, "SMS": 0.05},
    "whatsapp": {"WhatsApp": 0.6, "Instagram": 0.14, "Facebook": 0.12, "email": 0.07, "Telegram": 0.04, "SMS": 0.03},
    "line": {"LINE": 0.6, "email": 0.15, "Instagram": 0.12, "Facebook": 0.05, "SMS": 0.05, "WhatsApp": 0.03},
    "wechat": {"WeChat": 0.8, "email": 0.12, "SMS": 0.05, "Telegram": 0.03},
}
SOURCE_WEIGHTS = {"web chat": 0.3, "inbox": 0.32, "manual": 0.1, "import": 0.2, "API": 0.08}
OTHER_CHANNELS: dict[str, dict[str | None, float]] = {
    "web chat": {"web": 1.0},
    "manual": {None: 0.5, "email": 0.3, "SMS": 0.1, "WhatsApp": 0.1},
    "import": {"email": 0.6, None: 0.4},
    "API": {"web": 0.3, "email": 0.3, "SMS": 0.2, "WhatsApp": 0.2},
}
# Chance that a field is known, per source in SOURCES order (web chat, inbox, manual, import, API).
KNOWN: dict[str, tuple[float, ...]] = {
    "email": (0.9, 0.25, 0.75, 0.95, 0.85),
    "phone": (0.35, 0.15, 0.7, 0.6, 0.5),
    "company": (0.25, 0.12, 0.6, 0.65, 0.5),
    "address": (0.03, 0.05, 0.45, 0.6, 0.35),
    "birthday": (0.05, 0.1, 0.35, 0.5, 0.3),
    "gender": (0.15, 0.6, 0.4, 0.55, 0.3),
    "city": (1.0, 0.4, 0.6, 0.8, 0.6),
    "time_zone": (1.0, 0.8, 0.4, 0.5, 0.5),
    "language": (1.0, 0.9, 0.5, 0.6, 0.6),
}
ANONYMOUS_WEB_SHARE = 0.45

OWNERS = (
    ("admin", "Alex Morgan", "admin", 0.07),
    ("maria", "María García", "agent", 0.14),
    ("james", "James Carter", "agent", 0.14),
    ("aiko", "Aiko Tanaka", "agent", 0.11),
    ("lukas", "Lukas Becker", "agent", 0.12),
    ("chloe", "Chloé Dubois", "agent", 0.12),
    ("priya", "Priya Nair", "agent", 0.1),
    ("diego", "Diego Santos", "agent", 0.12),
)
UNASSIGNED_SHARE = 0.25
TAGS = {
    "Newsletter": 0.14, "Spring sale 2025": 0.08, "Black Friday 2024": 0.08, "Free trial": 0.09,
    "Abandoned cart": 0.08, "Webinar attendee": 0.08, "High intent": 0.06, "Event lead": 0.06,
    "Referral": 0.05, "VIP": 0.04, "Churn risk": 0.04, "Partner": 0.03, "Wholesale": 0.03,
    "Beta tester": 0.03, "Influencer": 0.02,
}
TAG_COUNTS = (0.35, 0.35, 0.2, 0.1)
# Stage weights for (people without, people with) a customer number; unknown stages get a little.
STAGE_WEIGHTS = {
    "Lead": (0.36, 0.0), "Contact": (0.34, 0.0), "Qualified": (0.2, 0.0), "Customer": (0.06, 0.8),
    "Churned": (0.04, 0.2),
}
GENDER_WEIGHTS = {"female": 0.49, "male": 0.47, "non-binary": 0.015, "unspecified": 0.025}
JOB_TITLES = (
    "CEO", "Founder", "Co-founder", "Marketing Manager", "Head of Marketing", "Sales Director", "Account Executive",
    "Operations Manager", "Customer Success Manager", "Software Engineer", "Product Manager", "CTO", "Office Manager",
    "Procurement Specialist", "Store Manager", "E-commerce Manager", "Growth Lead", "HR Manager", "Consultant",
    "Designer", "Financial Controller", "Owner", "Purchasing Manager", "Social Media Manager", "Team Lead",
)
COMPANY_WORDS = (
    ("Blue", "North", "Bright", "Silver", "Green", "Apex", "Nova", "Summit", "Pixel", "Harbor", "Cedar", "Quantum",
     "Red", "Golden", "Urban", "Atlas", "Lumen", "Orbit", "Clear", "Sun"),
    ("Labs", "Analytics", "Logistics", "Media", "Foods", "Studio", "Health", "Systems", "Retail", "Partners",
     "Travel", "Fitness", "Energy", "Works", "Solutions", "Outfitters", "Dental", "Motors", "Realty", "Academy"),
)
# Device, operating system, browser and how common the mix is among web chat visitors.
WEB_CLIENTS = (
    ("Mobile", "iOS", "Safari", 0.2), ("Mobile", "iOS", "Chrome", 0.04), ("Mobile", "Android", "Chrome", 0.2),
    ("Mobile", "Android", "Samsung Internet", 0.05), ("Desktop", "Windows 11", "Chrome", 0.13),
    ("Desktop", "Windows 10", "Chrome", 0.08), ("Desktop", "Windows 11", "Edge", 0.07),
    ("Desktop", "Windows 10", "Firefox", 0.02), ("Desktop", "macOS", "Chrome", 0.08),
    ("Desktop", "macOS", "Safari", 0.06), ("Desktop", "Linux", "Firefox", 0.02), ("Desktop", "Linux", "Chrome", 0.01),
    ("Tablet", "iPadOS", "Safari", 0.03), ("Tablet", "Android", "Chrome", 0.01),
)
# Landing page, referrer, utm source, medium and campaign, weight.
TRAFFIC = (
    ("/", "https://www.google.com/", None, None, None, 0.2),
    ("/pricing", "https://www.google.com/", "google", "cpc", "brand_search", 0.12),
    ("/features/whatsapp-inbox", "https://www.google.com/", "google", "cpc", "whatsapp_api_2025", 0.08),
    ("/blog/whatsapp-marketing-guide", "https://www.bing.com/", None, None, None, 0.05),
    ("/lp/black-friday", "https://www.facebook.com/", "facebook", "paid_social", "black_friday_2024", 0.08),
    ("/lp/spring-sale", "https://www.instagram.com/", "instagram", "paid_social", "spring_sale_2025", 0.07),
    ("/webinar/omnichannel-101", "https://www.linkedin.com/", "linkedin", "social", "webinar_q3", 0.05),
    ("/demo", None, "newsletter", "email", "monthly_newsletter", 0.07),
    ("/", None, None, None, None, 0.14),
    ("/integrations/shopify", "https://apps.shopify.com/", "shopify", "referral", None, 0.04),
    ("/pricing", "https://t.co/", "twitter", "social", "product_launch", 0.03),
    ("/contact", "https://www.google.com/", None, None, None, 0.07),
)
CONVERSATION_SUBJECTS = (
    "Question about pricing", "Where is my order #{n}?", "Refund for order #{n}", "Change of delivery address",
    "Demo request", "Problem logging in", "Invoice {n}", "Discount code not working", "Is this in stock?",
    "Opening hours", "Cancel my subscription", "Upgrade to Pro", "Partnership enquiry", "Size exchange",
    "Payment failed", "Feedback on the new app", "Booking an appointment", "Warranty claim", "API integration help",
    "Shipping costs",
)
TICKET_SUBJECTS = (
    "Order #{n} arrived damaged", "Refund not received", "Cannot reset password", "Charged twice for invoice {n}",
    "Bug: export fails", "Change billing details", "Delivery delayed", "Account locked",
    "Feature request: dark mode", "Cancel subscription", "Wrong item received in order #{n}",
    "Integration error with Shopify",
)
NOTE_OPENINGS = (
    "Called, no answer; left a voicemail.", "Spoke on the phone for ten minutes.", "Met at the trade fair booth.",
    "Replied to their email about pricing.", "Had a demo call with their team.", "Asked for a callback next week.",
    "Sent the quote by email.", "Chatted on WhatsApp about their order.",
)
NOTE_FOLLOW_UPS = (
    "Interested in the Pro plan.", "Wants a discount for annual billing.", "Follow up after the holidays.",
    "Prefers email over phone.", "Their manager makes the decision.", "Happy with the service so far.",
    "Unhappy about delivery times.", "Asked about the enterprise SLA.", "", "",
)
# File name, MIME type, smallest and largest size in bytes, weight.
MEDIA_KINDS = (
    ("IMG_{n}.jpg", "image/jpeg", 60_000, 4_500_000, 0.3),
    ("Screenshot_{n}.png", "image/png", 40_000, 2_000_000, 0.2),
    ("invoice-{n}.pdf", "application/pdf", 30_000, 400_000, 0.15),
    ("contract-{n}.pdf", "application/pdf", 100_000, 2_500_000, 0.07),
    ("voice-message-{n}.ogg", "audio/ogg", 8_000, 900_000, 0.12),
    ("VID_{n}.mp4", "video/mp4", 800_000, 40_000_000, 0.08),
    ("quote-{n}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 15_000, 300_000, 0.04),
    ("brief-{n}.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 20_000, 500_000,
     0.04),
)
CUSTOM_FIELDS = (
    ("customer_number", "Customer number", "text", None, True),
    ("lifetime_value", "Lifetime value", "number", None, False),
    ("newsletter_opt_in", "Newsletter opt-in", "checkbox", None, False),
    ("last_purchase_at", "Last purchase", "datetime", None, False),
    ("plan", "Plan", "dropdown", ["Free", "Pro", "Enterprise"], False),
)
# How each kind of duplicate is made, and its share of the duplicates.
DUPLICATE_KINDS = {
    "browser": 0.22, "email_variant": 0.2, "phone_format": 0.2, "typo": 0.18, "name_address": 0.12, "identity": 0.08,
}
EMAIL_PATTERNS = (  # local part of a personal address, and how common the pattern is
    ("{f}.{l}", 0.28), ("{f}{l}", 0.12), ("{f0}{l}", 0.1), ("{f}_{l}", 0.05), ("{f}.{l}{dd}", 0.12),
    ("{f}{yyyy}", 0.1), ("{l}.{f}", 0.05), ("{f}{l}{yyyy}", 0.08), ("{f0}.{l}", 0.05), ("{f}.{l0}{dd}", 0.05),
)
# Where each kind of duplicate comes from.
COPY_SOURCES = {
    "browser": {"web chat": 1.0}, "email_variant": {"import": 0.5, "manual": 0.2, "API": 0.3},
    "phone_format": {"inbox": 0.6, "import": 0.4}, "typo": {"import": 0.5, "manual": 0.3, "API": 0.2},
    "name_address": {"import": 0.7, "manual": 0.3}, "identity": {"API": 0.6, "import": 0.4},
}
CONTACT_COLUMNS = (
    "contact_id", "first_name", "last_name", "email", "phone", "phone_raw", "lead_stage", "owner_id", "tags",
    "email_subscription", "sms_subscription", "source", "channel", "social_id", "name_generated", "company",
    "job_title", "gender", "birthday", "language", "time_zone", "country", "state", "city", "address",
    "postal_code", "website", "browser", "os", "device", "ip_address", "first_visit_url", "referrer", "utm_source",
    "utm_medium", "utm_campaign", "created_on", "last_updated", "last_contacted", "last_seen", "blocked", "blocked_on",
)
# fmt: on


# --- Small vectorised helpers ---------------------------------------------------------------------------------


def _lit(values: np.ndarray) -> pl.Expr:
    """A numpy column as a Polars expression."""
    return pl.lit(pl.Series(values))


def _choose(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    """Indexes into `weights`, drawn in proportion to them."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _pick(values: Sequence[Any], index: np.ndarray, dtype: Any = pl.String) -> pl.Series:
    """values[index] as a Series, gathered natively (no Python per row)."""
    return pl.Series(list(values), dtype=dtype).gather(index)


def _sample(rng: np.random.Generator, options: Mapping[Any, float], size: int) -> pl.Series:
    """`size` keys of `options`, drawn in proportion to their weights."""
    return _pick(list(options), _choose(rng, list(options.values()), size))


def _random_text(rng: np.random.Generator, size: int, length: int, alphabet: str = HEX) -> pl.Series:
    """Random strings over an alphabet, built as one byte matrix."""
    codes = rng.integers(0, len(alphabet), (size, length), dtype=np.uint8)
    table = np.frombuffer(alphabet.encode(), dtype=np.uint8)
    packed = np.ascontiguousarray(table[codes]).view(f"S{length}").ravel()
    return pl.Series(packed, dtype=pl.Binary).cast(pl.String)


def _digits(numbers: np.ndarray, width: int) -> pl.Series:
    """Non-negative integers as zero-padded text."""
    return pl.Series(numbers, dtype=pl.Int64).cast(pl.String).str.zfill(width)


def _keep(values: pl.Series, mask: np.ndarray) -> pl.Series:
    """The values where mask holds, null elsewhere."""
    return pl.select(pl.when(pl.Series(mask)).then(values)).to_series().alias(values.name)


def _timestamps(micros: np.ndarray) -> pl.Series:
    """Microseconds since the epoch as a TIMESTAMP column."""
    return pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us"))


def _between(rng: np.random.Generator, start: np.ndarray, end: np.ndarray, skew: float = 1.0) -> np.ndarray:
    """A moment between start and end; skew > 1 leans towards the start."""
    return start + ((end - start) * rng.random(len(start)) ** skew).astype(np.int64)


def _template(template: str, parts: Mapping[str, pl.Expr]) -> pl.Expr:
    """Fill '{name}' placeholders of a template with expressions."""
    pieces = [
        parts[chunk[1:-1]] if chunk.startswith("{") else pl.lit(chunk)
        for chunk in re.split(r"(\{\w+\})", template)
        if chunk
    ]
    return pl.concat_str(pieces)


def _format_digits(digits: pl.Expr, template: str) -> pl.Expr:
    """Lay digits into a template where each '#' takes the next digit; the last run takes the rest."""
    runs = re.findall(r"([^#]*)(#*)", template)
    pieces, position = [], 0
    for number, (literal, hashes) in enumerate(runs):
        if literal:
            pieces.append(pl.lit(literal))
        if hashes:
            last = not any(h for _, h in runs[number + 1 :])
            pieces.append(digits.str.slice(position, None if last else len(hashes)))
            position += len(hashes)
    return pl.concat_str(pieces)


def _one_of(selector: pl.Expr, choices: Sequence[pl.Expr]) -> pl.Expr:
    """choices[selector], row by row."""
    chained = pl.when(selector == 0).then(choices[0])
    for number, choice in enumerate(choices[1:], start=1):
        chained = chained.when(selector == number).then(choice)
    return chained


def _slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: what a name becomes in an email address."""
    plain = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


# --- Name and company pools, read once from Faker's provider lists --------------------------------------------


@dataclass(frozen=True)
class NamePool:
    """Names as shown (native script), in Latin letters, as email slugs, and how common each is."""

    native: list[str]
    latin: list[str]
    slug: list[str]
    weights: np.ndarray


def _name_pool(entries: Any) -> NamePool:
    """A pool from a Faker list (equally likely) or mapping (name to frequency)."""
    items = list(entries.items()) if isinstance(entries, Mapping) else [(entry, 1.0) for entry in entries]
    names = [name if isinstance(name, tuple) else (name, None, name) for name, _ in items]
    weights = np.array([float(weight) for _, weight in items])
    # Japanese providers give (kanji, kana, romaji) triples: show kanji, write emails in romaji.
    return NamePool(
        native=[name[0] for name in names],
        latin=[name[2] for name in names],
        slug=[_slug(name[2]) or "user" for name in names],
        weights=weights / weights.sum(),
    )


@cache
def _name_pools(locale: str) -> tuple[NamePool, NamePool, NamePool]:
    """Female first names, male first names and last names of a Faker locale."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    if locale == "ja_JP":
        pairs = (provider.first_name_female_pairs, provider.first_name_male_pairs, provider.last_name_pairs)
        return tuple(_name_pool(entries) for entries in pairs)  # type: ignore[return-value]
    if locale == "zh_CN":
        # Romanised names only: Faker's Hanzi and pinyin lists do not line up.
        first = _name_pool(provider.first_romanized_names)
        return first, first, _name_pool(provider.last_romanized_names)
    lists = (provider.first_names_female, provider.first_names_male, provider.last_names)
    return tuple(_name_pool(entries) for entries in lists)  # type: ignore[return-value]


@cache
def _company_pool(code: str) -> tuple[list[str], list[str], np.ndarray]:
    """About 150 companies of a country: names, web domains, and sizes (a few big, many small)."""
    country = next(entry for entry in COUNTRIES if entry.code == code)
    rng = np.random.default_rng(sum(map(ord, code)))
    last_names = _name_pools(country.locale)[2].latin
    names, domains = [], []
    for _ in range(150):
        if rng.random() < 0.6:
            first, second = (words[rng.integers(len(words))] for words in COMPANY_WORDS)
            names.append(f"{first} {second}")
            domains.append(f"{_slug(first + second)}.{'com' if rng.random() < 0.7 else country.tld}")
        else:
            last = last_names[rng.integers(len(last_names))]
            legal = country.legal_forms[rng.integers(len(country.legal_forms))]
            names.append(f"{last} {legal}")
            domains.append(f"{_slug(last)}-{_slug(legal)}.{country.tld}")
    sizes = 1.0 / (np.arange(150) + 3.0)
    return names, domains, sizes / sizes.sum()


# --- People of one country --------------------------------------------------------------------------------------


def _names(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Gender, first and last name (native script shown for 60% of Japanese names) and their slugs."""
    female, male, last = _name_pools(country.locale)
    gender_index = _choose(rng, list(GENDER_WEIGHTS.values()), size)
    use_female = (gender_index == 0) | ((gender_index >= 2) & (rng.random(size) < 0.5))
    female_index = rng.choice(len(female.native), size=size, p=female.weights)
    male_index = rng.choice(len(male.native), size=size, p=male.weights)
    last_index = rng.choice(len(last.native), size=size, p=last.weights)
    native = rng.random(size) < (0.6 if country.locale == "ja_JP" else 0.0)
    first_shown = pl.Series(female.native + male.native)
    first_latin = pl.Series(female.latin + male.latin)
    first_slug = pl.Series(female.slug + male.slug)
    first_index = np.where(use_female, female_index, len(female.native) + male_index)
    return pl.DataFrame(
        {
            "gender": _pick(list(GENDER_WEIGHTS), gender_index),
            "first_name": _keep(first_shown.gather(first_index), native),
            "_first_latin": first_latin.gather(first_index),
            "_first_slug": first_slug.gather(first_index),
            "last_name": _keep(_pick(last.native, last_index), native),
            "_last_latin": _pick(last.latin, last_index),
            "_last_slug": _pick(last.slug, last_index),
        }
    ).with_columns(
        first_name=pl.coalesce("first_name", "_first_latin"), last_name=pl.coalesce("last_name", "_last_latin")
    )


def _origins(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Source, channel, whether the visitor stayed anonymous, and whether email and phone are known."""
    source = _choose(rng, [SOURCE_WEIGHTS[name] for name in SOURCES], size)
    channel = np.full(size, -1)
    for number, name in enumerate(SOURCES):
        rows = np.flatnonzero(source == number)
        options = MESSAGING[country.messaging] if name == "inbox" else OTHER_CHANNELS[name]
        codes = [CHANNELS.index(option) if option else -1 for option in options]
        channel[rows] = np.asarray(codes)[_choose(rng, list(options.values()), len(rows))]
    anonymous = (source == SOURCES.index("web chat")) & (rng.random(size) < ANONYMOUS_WEB_SHARE)
    # A message from WhatsApp or SMS comes with a number; an email comes with an address.
    by_phone = np.isin(channel, [CHANNELS.index("WhatsApp"), CHANNELS.index("SMS")])
    by_email = channel == CHANNELS.index("email")
    has_email = ~anonymous & ((rng.random(size) < np.asarray(KNOWN["email"])[source]) | by_email)
    has_phone = ~anonymous & ((rng.random(size) < np.asarray(KNOWN["phone"])[source]) | by_phone)
    return pl.DataFrame(
        {
            "source": _pick(SOURCES, source),
            "channel": _keep(_pick(CHANNELS, np.maximum(channel, 0)), channel >= 0),
            "name_generated": anonymous,
            "_source_index": source,
            "_has_email": has_email,
            "_has_phone": has_phone,
        }
    )


def _phones(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Mobile numbers, unique within the country, in E.164 and in two human formats each."""
    space = 10**country.subscriber_digits - country.subscriber_floor
    # An affine map of a permutation is a bijection, so no two people share a number.
    order = rng.permutation(size).astype(np.int64)
    subscriber = country.subscriber_floor + (order * 7_919_113 + int(rng.integers(space))) % space
    prefix = _pick(country.mobile_prefixes, rng.integers(len(country.mobile_prefixes), size=size))
    national = prefix + _digits(subscriber, country.subscriber_digits)
    formats = len(country.phone_formats)
    style = rng.integers(formats, size=size)
    other = (style + 1 + rng.integers(formats - 1, size=size)) % formats
    layouts = [_format_digits(pl.col("national"), template) for template in country.phone_formats]
    return pl.DataFrame({"national": national, "style": style, "other": other}).select(
        phone=pl.lit("+" + country.calling_code) + pl.col("national"),
        phone_raw=_one_of(pl.col("style"), layouts),
        _phone_raw_other=_one_of(pl.col("other"), layouts),
    )


def _places(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """City, state, time zone, street address and postal code."""
    city = _choose(rng, [entry[4] for entry in country.cities], size)
    street = _pick(country.streets, rng.integers(len(country.streets), size=size))
    house = _digits(rng.integers(1, 240, size=size), 1)
    block = _digits(rng.integers(1, 30, size=size), 1)
    postal = [_pick([entry[3] for entry in country.cities], city)]
    for symbol in country.postal_format:
        if symbol == "#":
            postal.append(_pick("0123456789", rng.integers(10, size=size)))
        elif symbol == "?":
            postal.append(_pick("ABDEFGHJLNPQRSTUWXYZ", rng.integers(20, size=size)))
        else:
            postal.append(pl.Series([symbol]).gather(np.zeros(size, dtype=np.int64)))
    frame = pl.DataFrame({"street": street, "n": house, "m": block})
    return pl.DataFrame(
        {
            "city": _pick([entry[0] for entry in country.cities], city),
            "state": _pick([entry[1] for entry in country.cities], city),
            "time_zone": _pick([entry[2] for entry in country.cities], city),
            "address": frame.select(
                _template(country.address_format, {k: pl.col(k) for k in frame.columns})
            ).to_series(),
            "postal_code": pl.DataFrame({str(n): part for n, part in enumerate(postal)})
            .select(pl.concat_str(pl.all()))
            .to_series(),
        }
    )


def _work(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Company (from a pool, so colleagues share one), its web domain, and a job title."""
    names, domains, sizes = _company_pool(country.code)
    company = rng.choice(len(names), size=size, p=sizes)
    return pl.DataFrame(
        {
            "company": _pick(names, company),
            "_company_domain": _pick(domains, company),
            "job_title": _pick(JOB_TITLES, rng.integers(len(JOB_TITLES), size=size)),
        }
    )


def _emails(rng: np.random.Generator, country: Country, people: pl.DataFrame) -> pl.DataFrame:
    """A personal email from the name, or a work one at the company's domain; plus a second address."""
    size = people.height
    pattern = _choose(rng, [weight for _, weight in EMAIL_PATTERNS], size)
    other = (pattern + 1 + rng.integers(len(EMAIL_PATTERNS) - 1, size=size)) % len(EMAIL_PATTERNS)
    domains = country.email_domains
    frame = people.select(
        f="_first_slug",
        l="_last_slug",
        f0=pl.col("_first_slug").str.head(1),
        l0=pl.col("_last_slug").str.head(1),
        yyyy=pl.col("_birth_year").cast(pl.String),
        domain=_sample(rng, domains, size),
        other_domain=_sample(rng, domains, size),
        work=pl.col("_company_domain"),
        at_work=pl.col("company").is_not_null() & _lit(rng.random(size) < 0.4),
        dd=_digits(rng.integers(10, 100, size=size), 2),
        pattern=pl.Series(pattern),
        other=pl.Series(other),
    )
    locals_ = [
        _template(template, {k: pl.col(k) for k in ("f", "l", "f0", "l0", "dd", "yyyy")})
        for template, _ in EMAIL_PATTERNS
    ]
    work_local = pl.when(pl.col("pattern") % 2 == 0).then(locals_[0]).otherwise(locals_[2])
    return frame.select(
        email=pl.when("at_work")
        .then(work_local + "@" + pl.col("work"))
        .otherwise(_one_of(pl.col("pattern"), locals_) + "@" + pl.col("domain")),
        _email_other=_one_of(pl.col("other"), locals_) + "@" + pl.col("other_domain"),
    )


def _country_people(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Everyone from one country: identity, origin and profile, with nulls where it is unknown."""
    origin = _origins(rng, country, size)
    birthday = pl.Series(rng.integers(-7_300, 13_150, size=size), dtype=pl.Int32).cast(pl.Date)  # 1950 to 2005
    # Whether the company is known decides between a work and a personal email, so it comes first.
    employed = ~origin["name_generated"].to_numpy()
    employed &= rng.random(size) < np.asarray(KNOWN["company"])[origin["_source_index"].to_numpy()]
    people = pl.concat(
        [
            _names(rng, country, size),
            origin,
            _phones(rng, country, size),
            _places(rng, country, size),
            _work(rng, country, size),
        ],
        how="horizontal",
    ).with_columns(
        birthday=birthday,
        _birth_year=birthday.dt.year(),
        company=pl.when(_lit(employed)).then("company"),
        country=pl.lit(country.name),
        language=_pick([country.language, "en-US"], (rng.random(size) < 0.08).astype(np.int64)),
    )
    people = pl.concat([people, _emails(rng, country, people)], how="horizontal")
    return people.with_columns(**_unknowns(rng, people))


def _unknowns(rng: np.random.Generator, people: pl.DataFrame) -> dict[str, pl.Series | pl.Expr]:
    """Blank out what a contact from this source would not have told us (anonymous visitors: only geo-IP)."""
    size = people.height
    source = people["_source_index"].to_numpy()
    named = ~people["name_generated"].to_numpy()

    def known(field: str) -> np.ndarray:
        return named & (rng.random(size) < np.asarray(KNOWN[field])[source])

    address, city = known("address"), known("city")
    company = pl.col("company").is_not_null()
    kept = {
        "birthday": known("birthday"),
        "gender": known("gender"),
        "address": address,
        "postal_code": address,
        "city": address | ~named | city,
        "state": address | ~named | city,
        "time_zone": ~named | known("time_zone"),
        "language": ~named | known("language"),
    }
    return {name: _keep(people[name], mask) for name, mask in kept.items()} | {
        "job_title": pl.when(company & _lit(rng.random(size) < 0.8)).then("job_title"),
        "website": pl.when(company & _lit(rng.random(size) < 0.5)).then("https://www." + pl.col("_company_domain")),
        "email": pl.when("_has_email").then("email"),
        "phone": pl.when("_has_phone").then("phone"),
        "phone_raw": pl.when("_has_phone").then("phone_raw"),
        # Instagram and Telegram profiles often carry a first name only.
        "last_name": pl.when(pl.col("channel").is_in(["Instagram", "Telegram"]) & _lit(rng.random(size) < 0.3))
        .then(None)
        .otherwise("last_name"),
    }


# --- Everyone, then the duplicates ----------------------------------------------------------------------------


def _base_people(rng: np.random.Generator, size: int, first_person: int) -> pl.DataFrame:
    """Distinct people from every country, each with a person_id and unique email and phone."""
    country = _choose(rng, [entry.weight for entry in COUNTRIES], size)
    sizes = np.bincount(country, minlength=len(COUNTRIES))
    blocks = [_country_people(rng, entry, int(sizes[n])) for n, entry in enumerate(COUNTRIES) if sizes[n]]
    people = pl.concat(blocks, how="vertical_relaxed").rechunk()
    customer = rng.random(people.height) < np.where(people["source"].is_in(["import", "API"]).to_numpy(), 0.3, 0.18)
    numbers = (rng.permutation(people.height).astype(np.int64) * 7_919 + 1_000_003) % 90_000_000 + 10_000_000
    people = people.with_columns(
        person_id=pl.int_range(pl.len(), dtype=pl.Int64) + first_person,
        customer_number=_keep("CUS-" + _digits(numbers, 8), customer & ~people["name_generated"].to_numpy()),
        _kind=pl.lit(None, pl.String),
    )
    return _unique_emails(people)


def _unique_emails(people: pl.DataFrame) -> pl.DataFrame:
    """Make sure two different people never share an address (Gmail dots ignored), by suffixing the later one."""
    stacked = pl.concat(
        [
            people.select("person_id", email="email", suffix=pl.lit("_")),
            people.select("person_id", email="_email_other", suffix=pl.lit("_2_")),
        ]
    )
    # Generated addresses are lower case; dropping every dot is stricter than Gmail, and cheap.
    key = pl.col("email").str.replace_all(".", "", literal=True)
    suffix = pl.col("suffix") + pl.col("person_id").cast(pl.String) + "@"
    fixed = stacked.select(
        pl.when(pl.col("email").is_not_null() & ~key.is_first_distinct())
        .then(pl.col("email").str.replace("@", suffix, literal=True))
        .otherwise("email")
    ).to_series()
    return people.with_columns(email=fixed[: people.height], _email_other=fixed[people.height :])


def _typo(name: pl.Expr, position: pl.Expr, kind: pl.Expr, letter: pl.Expr) -> pl.Expr:
    """One slip of the keyboard: two letters swapped, one dropped, or one replaced."""
    head, here, after = name.str.slice(0, position), name.str.slice(position, 1), name.str.slice(position + 1, 1)
    tail = name.str.slice(position + 2)
    dropped = head + name.str.slice(position + 1)
    swapped = pl.when(here != after).then(head + after + here + tail).otherwise(dropped)
    replaced = pl.when(here != letter).then(head + letter + name.str.slice(position + 1)).otherwise(dropped)
    return pl.when(kind == 0).then(swapped).when(kind == 1).then(dropped).otherwise(replaced)


def _email_variant(email: pl.Expr, dots: pl.Expr, shout: pl.Expr, where: pl.Expr) -> pl.Expr:
    """The same mailbox written differently: Gmail dots moved, or letters in another case."""
    local, domain = email.str.extract(r"^([^@]*)@"), email.str.extract(r"@(.*)$")
    # A dot goes between letters, never among the digits of "anna1990".
    letters = local.str.extract(r"^([a-z]*)").str.len_chars()
    position = (where * (letters - 1)).cast(pl.Int64) + 1
    undotted = pl.when(local.str.contains(".", literal=True)).then(local.str.replace_all(".", "", literal=True))
    dotted = undotted.when(letters >= 2).then(local.str.slice(0, position) + "." + local.str.slice(position))
    titled = local.str.to_titlecase() + "@" + domain.str.slice(0, 1).str.to_uppercase() + domain.str.slice(1)
    recased = pl.when(shout).then(email.str.to_uppercase()).otherwise(titled)
    gmail = domain.is_in(["gmail.com", "googlemail.com"])
    return pl.when(gmail & dots & dotted.is_not_null()).then(dotted + "@" + domain).otherwise(recased)


def _eligible(people: pl.DataFrame, kind: str) -> np.ndarray:
    """Rows of people a duplicate of this kind can be made from."""
    named = ~pl.col("name_generated")
    condition = {
        "browser": named & (pl.col("source") == "web chat") & pl.col("email").is_not_null(),
        "email_variant": pl.col("email").is_not_null(),
        "phone_format": pl.col("phone").is_not_null(),
        "typo": named
        & pl.col("first_name").str.contains(r"^[A-Za-z]\w{3,}$")
        & pl.col("last_name").is_not_null()
        & (pl.col("email").is_not_null() | pl.col("phone").is_not_null()),
        "name_address": named
        & pl.col("last_name").is_not_null()
        & (pl.col("address").is_not_null() | (pl.col("city").is_not_null() & pl.col("birthday").is_not_null())),
        "identity": pl.col("customer_number").is_not_null(),
    }[kind]
    return people.select(pl.arg_where(condition.fill_null(False))).to_series().to_numpy()


def _copies(rng: np.random.Generator, people: pl.DataFrame, kind: str, size: int) -> pl.DataFrame:
    """`size` extra contacts for people already present, changed the way this kind of duplicate is."""
    pool = _eligible(people, kind)
    if size == 0 or len(pool) == 0:
        return people.clear()
    rows = rng.choice(pool, size=size)
    source = _sample(rng, COPY_SOURCES[kind], size)
    changes = {"source": pl.lit(source), "name_generated": pl.lit(False)} | _copy_changes(rng, kind, size)
    if kind != "identity":
        changes["customer_number"] = None
    by_app, by_mail = _lit(rng.random(size) < 0.6), _lit(rng.random(size) < 0.5)
    channel = (
        pl.when(pl.col("source") == "web chat")
        .then(pl.lit("web"))
        .when(pl.col("source") == "inbox")
        .then(pl.when(by_app).then(pl.lit("WhatsApp")).otherwise(pl.lit("SMS")))
        .when(pl.col("email").is_not_null() & by_mail)
        .then(pl.lit("email"))
    )
    return (
        people[rows]
        .with_columns(
            _kind=pl.lit(kind),
            **{key: pl.lit(None, people.schema[key]) if value is None else value for key, value in changes.items()},
        )
        .with_columns(channel=channel)
    )


def _copy_changes(rng: np.random.Generator, kind: str, size: int) -> dict[str, pl.Expr | None]:
    """What differs in a duplicate of this kind (None: left empty)."""
    sometimes, often = _lit(rng.random(size) < 0.3), _lit(rng.random(size) < 0.6)
    keep_phone = {"phone": pl.when(sometimes).then("phone"), "phone_raw": pl.when(sometimes).then("phone_raw")}
    if kind == "browser":
        return keep_phone
    if kind == "email_variant":
        shout, where = _lit(rng.random(size) < 0.3), _lit(rng.random(size))
        return keep_phone | {"email": _email_variant(pl.col("email"), often, shout, where)}
    if kind == "phone_format":
        return {"phone_raw": pl.col("_phone_raw_other"), "email": pl.when(sometimes).then("email")}
    if kind == "typo":
        return _typo_changes(rng, size)
    # Matched only by name and address, or by the customer number: another email, no phone.
    return {"email": pl.when(often).then("_email_other"), "phone": None, "phone_raw": None}


def _typo_changes(rng: np.random.Generator, size: int) -> dict[str, pl.Expr]:
    """A typo in the first name (70%) or the last name, keeping the email or phone that links them."""
    in_first = _lit(rng.random(size) < 0.7)
    kind, letter = _lit(rng.integers(3, size=size)), _pick("aeiourlnst", rng.integers(10, size=size))

    def slip(column: str) -> pl.Expr:
        length = pl.col(column).str.len_chars()
        position = (_lit(rng.random(size)) * (length - 2)).cast(pl.Int64) + 1
        return pl.when(length >= 3).then(_typo(pl.col(column), position, kind, pl.lit(letter))).otherwise(column)

    return {
        "first_name": pl.when(in_first).then(slip("first_name")).otherwise("first_name"),
        "last_name": pl.when(in_first).then("last_name").otherwise(slip("last_name")),
    }


def _people(rng: np.random.Generator, total: int, first_person: int) -> pl.DataFrame:
    """`total` contacts: distinct people plus about 9% extra copies of some of them."""
    extra = round(total * DUPLICATE_SHARE) if total >= 10 else 0
    people = _base_people(rng, total - extra, first_person)
    counts = np.floor(np.array(list(DUPLICATE_KINDS.values())) * extra).astype(int)
    counts[0] += extra - counts.sum()
    copies = [_copies(rng, people, kind, int(count)) for kind, count in zip(DUPLICATE_KINDS, counts, strict=True)]
    everyone = pl.concat([people, *copies], how="vertical_relaxed")
    # Kinds that found no eligible source rows leave a shortfall; fill it with more distinct people.
    missing = total - everyone.height
    if missing:
        more = _base_people(rng, missing, first_person + people.height)
        everyone = pl.concat([everyone, more], how="vertical_relaxed")
    # The helpers for names, emails and phones are spent; _kind stays to count the duplicates.
    return everyone.drop(column for column in everyone.columns if column.startswith("_") and column != "_kind")


# --- Lifecycle: time, stage, owner, tags, subscriptions, web visit ---------------------------------------------


def _stage_weights(stages: list[str], column: int) -> list[float]:
    """Weights of the workspace's stages for people without (0) or with (1) a customer number."""
    return [STAGE_WEIGHTS.get(stage, (0.05, 0.05))[column] or 0.0 for stage in stages]


def _lifecycle(rng: np.random.Generator, people: pl.DataFrame, stages: list[str], now: int) -> pl.DataFrame:
    """IDs, times, lead stage, owner, tags, subscriptions and the blocked few."""
    size = people.height
    created = now - (HISTORY_DAYS * MICROS_PER_DAY * rng.random(size) ** 1.6).astype(np.int64)
    updated = np.where(rng.random(size) < 0.65, _between(rng, created, np.full(size, now), 2.0), created)
    blocked = rng.random(size) < 0.03
    blocked_on = _between(rng, created, np.full(size, now))
    customer = people["customer_number"].is_not_null().to_numpy()
    plain = _choose(rng, _stage_weights(stages, 0), size)
    customers = _choose(rng, _stage_weights(stages, 1) if sum(_stage_weights(stages, 1)) else [1.0], size)
    anonymous = people["name_generated"].to_numpy()
    stage = np.where(customer, customers, np.where(anonymous & (rng.random(size) < 0.85), 0, plain))
    owner = _choose(rng, [entry[3] for entry in OWNERS], size)
    unassigned = rng.random(size) < np.where(anonymous, 0.6, UNASSIGNED_SHARE)
    return (
        people.with_columns(
            contact_id=_random_text(rng, size, 16),
            created_on=_timestamps(created),
            last_updated=_timestamps(np.where(blocked, np.maximum(updated, blocked_on), updated)),
            blocked=pl.Series(blocked),
            blocked_on=_keep(_timestamps(blocked_on), blocked),
            lead_stage=_pick(stages, stage),
            owner_id=_keep(_pick([entry[0] for entry in OWNERS], owner), ~unassigned),
            tags=_tags(rng, size),
            email_subscription=_subscriptions(rng, people["email"].is_not_null().to_numpy(), 0.5, 0.12),
            sms_subscription=_subscriptions(rng, people["phone"].is_not_null().to_numpy(), 0.35, 0.1),
            social_id=_social_ids(rng, people),
        )
        .with_columns(**_web_visit(rng, people))
        .sort("contact_id")
    )


@cache
def _tag_lists() -> pl.Series:
    """Every tag list three draws and a count can give, at index ((first * T + second) * T + third) * 4 + count."""
    names = list(TAGS)
    lists = []
    for first, second, third in product(range(len(names)), repeat=3):
        drawn = list(dict.fromkeys(names[index] for index in (first, second, third)))
        lists.extend(drawn[:count] for count in range(len(TAG_COUNTS)))
    return pl.Series(lists, dtype=pl.List(pl.String))


def _tags(rng: np.random.Generator, size: int) -> pl.Series:
    """Zero to three distinct marketing tags each, gathered from a precomputed pool of lists."""
    weights, tags = list(TAGS.values()), len(TAGS)
    first, second, third = (_choose(rng, weights, size) for _ in range(3))
    index = ((first * tags + second) * tags + third) * len(TAG_COUNTS) + _choose(rng, TAG_COUNTS, size)
    return _tag_lists().gather(index)


def _subscriptions(
    rng: np.random.Generator, reachable: np.ndarray, subscribed: float, unsubscribed: float
) -> pl.Series:
    """Subscribed, unsubscribed or not set; 'not set' for people without the address or number."""
    state = _choose(rng, [subscribed, unsubscribed, 1 - subscribed - unsubscribed], len(reachable))
    return _pick(("subscribed", "unsubscribed", "not set"), np.where(reachable, state, 2))


def _social_ids(rng: np.random.Generator, people: pl.DataFrame) -> pl.Series:
    """The sender ID each messaging channel gives inbox contacts (a phone number for WhatsApp and SMS)."""
    rows = np.flatnonzero((people["source"] == "inbox").to_numpy())
    inbox, size = people[rows].select("channel", "phone", "email"), len(rows)
    digits = pl.lit(_digits(rng.integers(10**15, 10**16, size=size), 16))
    formats = {
        "WhatsApp": pl.col("phone").str.slice(1),
        "SMS": pl.col("phone"),
        "email": pl.col("email"),
        "Facebook": digits,
        "Instagram": pl.lit("17") + digits.str.slice(0, 15),
        "Telegram": digits.str.slice(0, 10),
        "LINE": "U" + pl.lit(_random_text(rng, size, 32)),
        "WeChat": "o" + pl.lit(_random_text(rng, size, 27, BASE62)),
    }
    chained = pl.when(pl.lit(False)).then(None)
    for channel, value in formats.items():
        chained = chained.when(pl.col("channel") == channel).then(value)
    found = inbox.select(chained).to_series()
    return pl.repeat(None, people.height, dtype=pl.String, eager=True).scatter(rows, found).alias("social_id")


def _web_visit(rng: np.random.Generator, people: pl.DataFrame) -> dict[str, pl.Series]:
    """Browser, device, IP and first visit with its campaign: for web chat, web channels and a few others."""
    size = people.height
    web = ((people["channel"] == "web").fill_null(False) | (people["source"] == "web chat")).to_numpy()
    web |= rng.random(size) < 0.05
    client = _choose(rng, [entry[3] for entry in WEB_CLIENTS], size)
    visit = _choose(rng, [entry[5] for entry in TRAFFIC], size)
    # Public unicast IPv4: no 10/8, loopback, multicast or reserved ranges.
    octets = [rng.integers(low, high, size=size) for low, high in ((11, 224), (0, 256), (0, 256), (1, 255))]
    octets[0] = np.where(octets[0] == 127, 128, octets[0])
    ip = (
        pl.DataFrame({str(n): _digits(o, 1) for n, o in enumerate(octets)})
        .select(pl.concat_str(pl.all(), separator="."))
        .to_series()
    )
    urls = [
        BRAND_SITE + path + (f"?utm_source={s}&utm_medium={m}&utm_campaign={c or 'none'}" if s else "")
        for path, _, s, m, c, _ in TRAFFIC
    ]
    columns = {
        "device": _pick([e[0] for e in WEB_CLIENTS], client),
        "os": _pick([e[1] for e in WEB_CLIENTS], client),
        "browser": _pick([e[2] for e in WEB_CLIENTS], client),
        "ip_address": ip,
        "first_visit_url": _pick(urls, visit),
        "referrer": _pick([e[1] for e in TRAFFIC], visit),
        "utm_source": _pick([e[2] for e in TRAFFIC], visit),
        "utm_medium": _pick([e[3] for e in TRAFFIC], visit),
        "utm_campaign": _pick([e[4] for e in TRAFFIC], visit),
    }
    return {name: _keep(values, web) for name, values in columns.items()}


# --- Related records ------------------------------------------------------------------------------------------


def _expand(contacts: pl.DataFrame, counts: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """One row per record: the owning contact's columns repeated, and each record's rank (0 = first)."""
    owners = np.repeat(np.arange(contacts.height), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return contacts[owners], np.arange(len(owners)) - starts


def _numbered(texts: Sequence[str], rng: np.random.Generator, size: int) -> pl.Series:
    """Texts from a list, with '{n}' filled by a five-digit number."""
    chosen = pl.DataFrame(
        {
            "t": _pick(texts, rng.integers(len(texts), size=size)),
            "n": _digits(rng.integers(10_000, 100_000, size=size), 5),
        }
    )
    return chosen.select(pl.col("t").str.replace("{n}", pl.col("n"), literal=True)).to_series()


def _micros(column: pl.Series) -> np.ndarray:
    """A TIMESTAMP column as microseconds since the epoch."""
    return column.cast(pl.Int64).to_numpy()


def _conversations(rng: np.random.Generator, contacts: pl.DataFrame, now: int) -> pl.DataFrame:
    """Web chats and inbox threads; a web chat or inbox contact's first one is what created it."""
    source = contacts["source"].to_numpy()
    rate = np.select([source == "web chat", source == "inbox", source == "API"], [0.6, 1.0, 0.6], 0.4)
    first = np.isin(source, ["web chat", "inbox"]).astype(np.int64)
    counts = first + rng.poisson(rate)
    owners, rank = _expand(contacts.select("contact_id", "channel", "created_on"), counts)
    size = owners.height
    created = _micros(owners["created_on"])
    opened_it = (rank == 0) & (np.repeat(first, counts) == 1)
    started = np.where(opened_it, created, _between(rng, created, np.full(size, now), 1.5))
    length = (rng.exponential(3.0, size) * 3_600_000_000 * np.where(rng.random(size) < 0.1, 24, 1)).astype(np.int64)
    # A thread still running ends at a random moment before now, not all at now.
    last = started + np.minimum(length, ((now - started) * rng.random(size)).astype(np.int64))
    recent = (now - last) < 7 * MICROS_PER_DAY
    status = np.where(recent, _choose(rng, [0.5, 0.2, 0.3], size), _choose(rng, [0.04, 0.03, 0.93], size))
    channel = owners["channel"].fill_null("email")
    return pl.DataFrame(
        {
            "contact_id": owners["contact_id"],
            "channel": channel,
            "kind": pl.Series(np.where((channel == "web").to_numpy(), "webchat", "inbox"), dtype=pl.String),
            "subject": _numbered(CONVERSATION_SUBJECTS, rng, size),
            "started_at": _timestamps(started),
            "last_message_at": _timestamps(last),
            "message_count": pl.Series(rng.geometric(0.12, size), dtype=pl.Int32),
            "status": _pick(("open", "pending", "closed"), status),
        }
    ).sort("contact_id", "started_at")


def _tickets(rng: np.random.Generator, contacts: pl.DataFrame, now: int) -> pl.DataFrame:
    """Support tickets for about one contact in seven; old ones are mostly solved."""
    counts = np.where(rng.random(contacts.height) < 0.14, 1 + rng.poisson(0.4, contacts.height), 0)
    owners, _ = _expand(contacts.select("contact_id", "created_on"), counts)
    size = owners.height
    created = _between(rng, _micros(owners["created_on"]), np.full(size, now))
    recent = (now - created) < 14 * MICROS_PER_DAY
    status = np.where(recent, _choose(rng, [0.5, 0.2, 0.2, 0.1], size), _choose(rng, [0.03, 0.02, 0.45, 0.5], size))
    return pl.DataFrame(
        {
            "contact_id": owners["contact_id"],
            "subject": _numbered(TICKET_SUBJECTS, rng, size),
            "status": _pick(("open", "pending", "solved", "closed"), status),
            "priority": _pick(("low", "normal", "high", "urgent"), _choose(rng, [0.2, 0.55, 0.2, 0.05], size)),
            "created_at": _timestamps(created),
        }
    ).sort("contact_id", "created_at")


def _notes(rng: np.random.Generator, contacts: pl.DataFrame, now: int) -> pl.DataFrame:
    """Agents' notes on about one contact in five, mostly by the contact's owner."""
    counts = np.where(rng.random(contacts.height) < 0.2, 1 + rng.poisson(0.5, contacts.height), 0)
    owners, _ = _expand(contacts.select("contact_id", "created_on", "owner_id"), counts)
    size = owners.height
    anyone = _pick([entry[0] for entry in OWNERS], rng.integers(len(OWNERS), size=size))
    author = owners.select(
        pl.when(_lit(rng.random(size) < 0.8)).then(pl.coalesce("owner_id", pl.lit(anyone))).otherwise(pl.lit(anyone))
    ).to_series()
    body = (
        pl.DataFrame(
            {
                "a": _pick(NOTE_OPENINGS, rng.integers(len(NOTE_OPENINGS), size=size)),
                "b": _pick(NOTE_FOLLOW_UPS, rng.integers(len(NOTE_FOLLOW_UPS), size=size)),
            }
        )
        .select(pl.concat_str("a", "b", separator=" ").str.strip_chars())
        .to_series()
    )
    return pl.DataFrame(
        {
            "contact_id": owners["contact_id"],
            "author": author,
            "body": body,
            "created_at": _timestamps(_between(rng, _micros(owners["created_on"]), np.full(size, now))),
        }
    ).sort("contact_id", "created_at")


def _media(rng: np.random.Generator, contacts: pl.DataFrame, now: int) -> pl.DataFrame:
    """Attachment metadata (photos, PDFs, voice messages) for about one contact in eleven."""
    counts = np.where(rng.random(contacts.height) < 0.09, 1 + rng.poisson(0.6, contacts.height), 0)
    owners, _ = _expand(contacts.select("contact_id", "created_on"), counts)
    size = owners.height
    kind = _choose(rng, [entry[4] for entry in MEDIA_KINDS], size)
    low = np.log(np.array([entry[2] for entry in MEDIA_KINDS], dtype=float))[kind]
    high = np.log(np.array([entry[3] for entry in MEDIA_KINDS], dtype=float))[kind]
    names = pl.DataFrame(
        {"t": _pick([entry[0] for entry in MEDIA_KINDS], kind), "n": _digits(rng.integers(1_000, 10_000, size=size), 4)}
    )
    return pl.DataFrame(
        {
            "contact_id": owners["contact_id"],
            "file_name": names.select(pl.col("t").str.replace("{n}", pl.col("n"), literal=True)).to_series(),
            "mime_type": _pick([entry[1] for entry in MEDIA_KINDS], kind),
            "size_bytes": pl.Series(np.exp(low + (high - low) * rng.random(size)).astype(np.int64)),
            "created_at": _timestamps(_between(rng, _micros(owners["created_on"]), np.full(size, now))),
        }
    ).sort("contact_id", "created_at")


def _json_changes(fields: Sequence[str], before: Mapping[str, pl.Expr] | None = None) -> pl.Expr:
    """{"field": {"before": .., "after": ..}} for each field with a value, as the app logs changes."""

    def quoted(value: pl.Expr) -> pl.Expr:
        # String concatenation is twice as fast as struct.json_encode; every value here is a string.
        escaped = value.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
        return pl.when(value.is_null()).then(pl.lit("null")).otherwise('"' + escaped + '"')

    before = before or {}
    pieces = [
        pl.when(pl.col(field).is_not_null()).then(
            pl.concat_str(
                pl.lit(f'"{field}": {{"before": '),
                quoted(before.get(field, pl.lit(None, pl.String))),
                pl.lit(', "after": '),
                quoted(pl.col(field)),
                pl.lit("}"),
            )
        )
        for field in fields
    ]
    return "{" + pl.concat_str(pieces, separator=", ", ignore_nulls=True) + "}"


def _activity(contacts: pl.DataFrame, notes: pl.DataFrame, stages: list[str]) -> pl.DataFrame:
    """A 'created' entry per contact, stage changes, blocks and notes: who, when and what changed."""
    actor = (
        pl.when(pl.col("source").is_in(["web chat", "inbox"]))
        .then(pl.lit("system"))
        .when(pl.col("source") == "API")
        .then(pl.lit("api"))
        .otherwise(pl.coalesce("owner_id", pl.lit("admin")))
    )
    staff = pl.coalesce("owner_id", pl.lit("admin"))
    previous = {stage: stages[n - 1] for n, stage in enumerate(stages) if n}
    created = contacts.select(
        "contact_id",
        happened_at="created_on",
        actor=actor,
        action=pl.lit("created"),
        changes=_json_changes(("first_name", "last_name", "email", "phone", "lead_stage", "owner_id", "source")),
    )
    updated = pl.col("last_updated") > pl.col("created_on")
    moved = contacts.filter(updated & pl.col("lead_stage").is_in(list(previous)))
    staged = moved.select(
        "contact_id",
        happened_at="last_updated",
        actor=staff,
        action=pl.lit("updated"),
        changes=_json_changes(["lead_stage"], {"lead_stage": pl.col("lead_stage").replace_strict(previous)}),
    )
    blocked = contacts.filter("blocked").select(
        "contact_id",
        happened_at="blocked_on",
        actor=staff,
        action=pl.lit("blocked"),
        changes=pl.lit('{"blocked": {"before": false, "after": true}}'),
    )
    noted = notes.select(
        "contact_id",
        happened_at="created_at",
        actor="author",
        action=pl.lit("note added"),
        changes=pl.lit(None, pl.String),
    )
    return pl.concat([created, staged, blocked, noted]).sort("contact_id", "happened_at")


def _custom_values(rng: np.random.Generator, contacts: pl.DataFrame, now: int, usable: set[str]) -> pl.DataFrame:
    """Values in canonical text for customers and a share of everyone else; only for fields this demo defined."""
    size = contacts.height
    customer = contacts["lead_stage"].is_in(["Customer", "Churned"]).to_numpy()
    spent = np.exp(rng.normal(6.0, 1.2, size))
    value = np.where(rng.random(size) < 0.3, np.round(spent), np.round(spent * 100) / 100)
    purchase = _between(rng, _micros(contacts["created_on"]), np.full(size, now), 0.5)
    plan = np.where(customer, _choose(rng, [0.25, 0.55, 0.2], size), _choose(rng, [0.85, 0.15, 0.0], size))
    subscribed = contacts["email_subscription"] == "subscribed"
    values = {
        "customer_number": contacts["customer_number"],
        "lifetime_value": _keep(_canonical_numbers(value), customer | (rng.random(size) < 0.05)),
        "newsletter_opt_in": _keep(
            _pick(("false", "true"), (subscribed.to_numpy() ^ (rng.random(size) < 0.05)).astype(np.int64)),
            contacts["email"].is_not_null().to_numpy() & (rng.random(size) < 0.6),
        ),
        "last_purchase_at": _keep(_timestamps(purchase).dt.strftime("%Y-%m-%d %H:%M:%S"), customer),
        "plan": _keep(_pick(("Free", "Pro", "Enterprise"), plan), customer | (rng.random(size) < 0.2)),
    }
    frames = [
        pl.DataFrame({"contact_id": contacts["contact_id"], "field_key": key, "value": column}).drop_nulls("value")
        for key, column in values.items()
        if key in usable
    ]
    empty = pl.DataFrame(schema={"contact_id": pl.String, "field_key": pl.String, "value": pl.String})
    return pl.concat([empty, *frames]).sort("contact_id", "field_key")


def _canonical_numbers(values: np.ndarray) -> pl.Series:
    """Numbers as the app stores them: '42' for whole numbers, '120.5' otherwise."""
    series = pl.Series(values)
    whole = series == series.floor()
    return (
        pl.DataFrame({"v": series, "w": whole})
        .select(pl.when("w").then(pl.col("v").cast(pl.Int64).cast(pl.String)).otherwise(pl.col("v").cast(pl.String)))
        .to_series()
    )


def _last_contact(
    contacts: pl.DataFrame, conversations: pl.DataFrame, rng: np.random.Generator, now: int
) -> pl.DataFrame:
    """Last contacted is the latest message; last seen adds later visits by web visitors."""
    latest = conversations.group_by("contact_id").agg(last_contacted=pl.col("last_message_at").max())
    joined = contacts.join(latest, on="contact_id", how="left", maintain_order="left")
    visit = _timestamps(_between(rng, _micros(joined["created_on"]), np.full(joined.height, now), 0.7))
    return joined.with_columns(
        last_seen=pl.when(pl.col("browser").is_not_null())
        .then(pl.max_horizontal("last_contacted", pl.lit(visit)))
        .when(pl.col("source") == "inbox")
        .then("last_contacted")
    )


# --- Writing ----------------------------------------------------------------------------------------------------


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Append a frame to a table in one INSERT ... SELECT; the related tables number their own rows.

    Frames arrive sorted by contact_id: DuckDB's indexes take sorted keys about twice as fast.
    """
    columns = ", ".join(frame.columns)
    con.register("demo_frame", frame)
    try:
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM demo_frame")
    finally:
        con.unregister("demo_frame")
    return frame.height


def _ensure_owners(con: duckdb.DuckDBPyConnection) -> None:
    """Add the demo team (one admin, seven agents) unless they are there already."""
    for owner_id, name, role, _ in OWNERS:
        if not scalar(con, "SELECT count(*) FROM owners WHERE owner_id = ?", [owner_id]):
            first = _slug(name.split()[0])
            add_owner(con, owner_id, name, role, email=f"{first}@brightwave.io")


def _ensure_custom_fields(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Define the demo's custom fields; returns the keys whose definition fits the demo's values."""
    usable = set()
    for key, label, type_, options, identity in CUSTOM_FIELDS:
        found = con.execute("SELECT type, options FROM custom_fields WHERE key = ?", [key]).fetchall()
        if not found:
            define_custom_field(con, key, label, type_, options, is_identity=identity)
            usable.add(key)
        elif found[0][0] == type_ and set(options or []) <= set(found[0][1]):
            usable.add(key)
    return usable


def _now_micros(now: datetime | None) -> int:
    """The demo's 'now' in microseconds; by default the current hour, so a rerun within it matches."""
    moment = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return (moment.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def generate_demo(
    con: duckdb.DuckDBPyConnection, contacts: int = 5000, seed: int = 7, now: datetime | None = None
) -> DemoSummary:
    """Add `contacts` realistic demo contacts as of `now` (default: this hour), with duplicates' truth and records."""
    started = time.perf_counter()
    moment = _now_micros(now)
    # define_custom_field commits on its own, so the fields come before the one big transaction.
    usable = _ensure_custom_fields(con)
    with transaction(con):
        _ensure_owners(con)
        if contacts <= 0:
            return DemoSummary(**dict.fromkeys(DemoSummary.model_fields, 0))
        # Mixing in the contacts already there keeps a second run on the same database from reusing IDs.
        rng = np.random.default_rng([seed, scalar(con, "SELECT count(*) FROM contacts")])
        first_person = scalar(con, "SELECT coalesce(max(person_id), 0) + 1 FROM demo_truth")
        stages = lead_stages(con)
        people = _lifecycle(rng, _people(rng, contacts, first_person), stages, moment)
        counts = _write(con, rng, people, stages, usable, moment)
    return DemoSummary(**counts, seconds=round(time.perf_counter() - started, 3))


def _write(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    people: pl.DataFrame,
    stages: list[str],
    usable: set[str],
    now: int,
) -> dict[str, int]:
    """Build and insert every table, one statement each, dropping each frame once written."""
    conversations = _conversations(rng, people, now)
    people = _last_contact(people, conversations, rng, now)
    counts = {
        "contacts": _insert(con, "contacts", people.select(CONTACT_COLUMNS)),
        "duplicates": people["_kind"].is_not_null().sum(),
    }
    _insert(con, "demo_truth", people.select("contact_id", "person_id"))
    _insert(con, "custom_values", _custom_values(rng, people, now, usable))
    counts["conversations"] = _insert(con, "conversations", conversations)
    del conversations
    slim = people.select("contact_id", "created_on", "owner_id")
    counts["tickets"] = _insert(con, "tickets", _tickets(rng, slim, now))
    notes = _notes(rng, slim, now)
    counts["notes"] = _insert(con, "notes", notes)
    counts["media"] = _insert(con, "media", _media(rng, slim, now))
    counts["activity"] = _insert(con, "activity", _activity(people, notes, stages))
    return counts
