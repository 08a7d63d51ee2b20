"""Static reference data for the sample generator: Dutch names, cities, e-mail domains, texts.

Every name that can reach the contact-center file must be encodable in Windows-1252 (``cp1252``): no
Turkish dotless i or s-cedilla, for example. ``tests/unit/test_generator.py`` checks that.
"""

from __future__ import annotations

from typing import NamedTuple


class FirstName(NamedTuple):
    name: str
    gender: str  # "M" or "V"
    weight: float


class City(NamedTuple):
    name: str
    province: str
    postcode_from: int  # first 4-digit postcode area of the city
    postcode_to: int  # last 4-digit postcode area of the city (inclusive)
    area_code: str  # landline area code without the leading 0
    weight: float  # relative share of the customer base


FIRST_NAMES: tuple[FirstName, ...] = (
    *(
        FirstName(n, "M", w)
        for n, w in (
            ("Jan", 3.0), ("Pieter", 2.0), ("Kees", 1.5), ("Henk", 1.5), ("Sander", 1.5), ("Bas", 1.5),
            ("Thomas", 2.0), ("Daan", 2.0), ("Lucas", 1.5), ("Sem", 1.2), ("Ruben", 1.2), ("Mark", 1.8),
            ("Dennis", 1.2), ("Jeroen", 1.5), ("Martijn", 1.3), ("Wouter", 1.2), ("Willem", 1.3),
            ("Gerrit", 1.0), ("Frank", 1.0), ("Mohamed", 1.2), ("Youssef", 0.8), ("Mehmet", 0.8),
            ("Ömer", 0.5), ("René", 1.0), ("Noël", 0.5), ("Daniël", 1.0), ("Raphaël", 0.4), ("Joël", 0.5),
            ("Michiel", 0.8), ("Jürgen", 0.4), ("Björn", 0.4), ("François", 0.3), ("Søren", 0.2),
            ("Loïc", 0.2), ("Stefan", 1.0), ("Niels", 1.0), ("Tim", 1.4), ("Bram", 1.2), ("Koen", 1.0),
        )
    ),
    *(
        FirstName(n, "V", w)
        for n, w in (
            ("Anna", 2.0), ("Emma", 2.0), ("Sophie", 2.0), ("Julia", 1.8), ("Lisa", 1.8), ("Sanne", 1.6),
            ("Anouk", 1.4), ("Fleur", 1.2), ("Eva", 1.5), ("Maria", 1.5), ("Ingrid", 1.0), ("Petra", 1.0),
            ("Marieke", 1.2), ("Linda", 1.2), ("Esther", 1.0), ("Fatima", 1.0), ("Samira", 0.7),
            ("Ayla", 0.6), ("Zoë", 1.2), ("Chloë", 0.8), ("Anaïs", 0.4), ("Inès", 0.4), ("Noëlle", 0.4),
            ("Renée", 0.5), ("Loïs", 0.4), ("Gül", 0.3), ("Élise", 0.3), ("Céline", 0.5), ("Daphne", 0.8),
            ("Iris", 1.0), ("Noor", 1.3), ("Lotte", 1.3), ("Femke", 1.0), ("Wendy", 0.8), ("Mirjam", 0.7),
        )
    ),
)  # fmt: skip

LAST_NAMES: tuple[tuple[str, float], ...] = (
    ("de Jong", 3.0), ("Jansen", 2.8), ("de Vries", 2.7), ("van den Berg", 2.0), ("van Dijk", 2.0),
    ("Bakker", 2.0), ("Janssen", 1.9), ("Visser", 1.8), ("Smit", 1.7), ("Meijer", 1.6), ("de Boer", 1.6),
    ("Mulder", 1.5), ("de Groot", 1.5), ("Bos", 1.4), ("Vos", 1.3), ("Peters", 1.3), ("Hendriks", 1.3),
    ("van Leeuwen", 1.2), ("Dekker", 1.2), ("Brouwer", 1.1), ("de Wit", 1.1), ("Dijkstra", 1.0),
    ("Smits", 1.0), ("de Graaf", 1.0), ("van der Meer", 1.0), ("van der Linden", 0.9), ("Kok", 0.9),
    ("Jacobs", 0.9), ("de Haan", 0.9), ("Vermeulen", 0.9), ("van den Heuvel", 0.8), ("van der Veen", 0.8),
    ("van den Broek", 0.8), ("de Bruijn", 0.8), ("Schouten", 0.7), ("Willems", 0.7), ("Hoekstra", 0.6),
    ("Müller", 0.7), ("Çelik", 0.6), ("Öztürk", 0.5), ("Schröder", 0.4), ("Lefèvre", 0.3),
    ("Gonçalves", 0.3), ("Brüggemann", 0.3), ("Hoëvenaars", 0.3), ("Dönmez", 0.3), ("Akgül", 0.3),
    ("Peña", 0.2), ("Gómez", 0.2), ("Kaya", 0.5), ("Demir", 0.5), ("El Amrani", 0.5), ("Bouzid", 0.4),
    ("Nguyen", 0.4), ("Boukhari", 0.3), ("Wüst", 0.2),
)  # fmt: skip

CITIES: tuple[City, ...] = (
    City("Amsterdam", "Noord-Holland", 1011, 1109, "20", 9.0),
    City("Rotterdam", "Zuid-Holland", 3011, 3089, "10", 6.5),
    City("Den Haag", "Zuid-Holland", 2491, 2599, "70", 5.5),
    City("Utrecht", "Utrecht", 3511, 3585, "30", 3.7),
    City("Eindhoven", "Noord-Brabant", 5611, 5658, "40", 2.4),
    City("Groningen", "Groningen", 9711, 9747, "50", 2.4),
    City("Tilburg", "Noord-Brabant", 5011, 5049, "13", 2.2),
    City("Almere", "Flevoland", 1311, 1363, "36", 2.2),
    City("Breda", "Noord-Brabant", 4811, 4839, "76", 1.9),
    City("Nijmegen", "Gelderland", 6511, 6546, "24", 1.8),
    City("Arnhem", "Gelderland", 6811, 6846, "26", 1.6),
    City("Haarlem", "Noord-Holland", 2011, 2037, "23", 1.6),
    City("Enschede", "Overijssel", 7511, 7548, "53", 1.6),
    City("Amersfoort", "Utrecht", 3811, 3829, "33", 1.6),
    City("Apeldoorn", "Gelderland", 7311, 7339, "55", 1.6),
    City("Zwolle", "Overijssel", 8011, 8048, "38", 1.3),
    City("Leiden", "Zuid-Holland", 2311, 2334, "71", 1.2),
    City("Maastricht", "Limburg", 6211, 6229, "43", 1.2),
    City("'s-Hertogenbosch", "Noord-Brabant", 5211, 5237, "73", 1.6),
    City("Leeuwarden", "Fryslân", 8911, 8939, "58", 1.2),
    City("Delft", "Zuid-Holland", 2611, 2629, "15", 1.0),
    City("Zoetermeer", "Zuid-Holland", 2711, 2729, "79", 1.2),
    City("Dordrecht", "Zuid-Holland", 3311, 3329, "78", 1.2),
    City("Alkmaar", "Noord-Holland", 1811, 1827, "72", 1.1),
    City("Emmen", "Drenthe", 7811, 7833, "591", 1.0),
    City("Assen", "Drenthe", 9401, 9409, "592", 0.7),
    City("Middelburg", "Zeeland", 4331, 4339, "118", 0.5),
    City("Venlo", "Limburg", 5911, 5932, "77", 1.0),
    City("Heerlen", "Limburg", 6411, 6436, "45", 0.9),
    City("Hilversum", "Noord-Holland", 1211, 1224, "35", 0.9),
)

# Dutch area codes of two digits (without the leading 0); every other landline area code has three.
TWO_DIGIT_AREA_CODES: frozenset[str] = frozenset(
    "10 13 15 20 23 24 26 30 33 35 36 38 40 43 45 46 50 53 55 58 70 71 72 73 74 75 76 77 78 79".split()
)

# Postcode letter pairs that PostNL never issues.
EXCLUDED_POSTCODE_LETTERS: frozenset[str] = frozenset({"SA", "SD", "SS"})

EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.28), ("hotmail.com", 0.17), ("outlook.com", 0.08), ("ziggo.nl", 0.10),
    ("kpnmail.nl", 0.08), ("live.nl", 0.06), ("icloud.com", 0.06), ("yahoo.com", 0.04),
    ("xs4all.nl", 0.03), ("planet.nl", 0.03), ("home.nl", 0.03), ("hetnet.nl", 0.04),
)  # fmt: skip

# Characters that do not decompose into an ASCII letter plus accents (used for e-mail local parts).
ASCII_FOLD: dict[str, str] = {"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE"}

CONTACT_CENTER_AGENTS: tuple[str, ...] = (
    "zoë.çelik", "rené.vandenberg", "anouk.müller", "daniël.bakker", "inès.demir", "jürgen.smit",
    "sanne.devries", "mohamed.elamrani", "fleur.öztürk", "michiel.dekker", "chloë.jansen", "bas.hoekstra",
    "noëlle.brouwer", "tim.schröder", "céline.kaya", "koen.visser", "ayla.bouzid", "joël.lefèvre",
    "lotte.meijer", "stefan.gonçalves", "marieke.bos", "niels.dijkstra",
)  # fmt: skip

PRODUCT_CATEGORIES: dict[str, dict[str, tuple[str, ...]]] = {
    "Wonen": {
        "Woonaccessoires": ("vaas", "fotolijst", "kaars", "kussen", "plaid", "spiegel"),
        "Verlichting": ("tafellamp", "hanglamp", "lichtsnoer", "vloerlamp"),
    },
    "Keuken": {
        "Koken": ("koekenpan", "braadpan", "snijplank", "messenset", "ovenschaal"),
        "Servies": ("koffiemok", "ontbijtbord", "theeglas", "schaal"),
    },
    "Elektronica": {
        "Audio": ("oordopjes", "bluetooth speaker", "koptelefoon"),
        "Accessoires": ("oplaadkabel", "powerbank", "telefoonhoes", "stekkerdoos"),
    },
    "Verzorging": {
        "Lichaam": ("douchegel", "bodylotion", "handcrème", "deodorant"),
        "Haar": ("shampoo", "conditioner", "haarborstel"),
    },
    "Kleding": {
        "Basics": ("t-shirt", "sokken (5 paar)", "boxershort", "hemd"),
        "Nachtmode": ("pyjama", "badjas", "sloffen"),
    },
    "Speelgoed": {
        "Spellen": ("bordspel", "puzzel 1000 stukjes", "kaartspel"),
        "Buiten": ("stoepkrijt", "waterpistool", "springtouw"),
    },
    "Tuin": {
        "Planten": ("bloempot", "plantenspuit", "zaaigoed"),
        "Buitenleven": ("tuinkussen", "windlicht", "picknickkleed"),
    },
}

PRODUCT_ADJECTIVES: tuple[str, ...] = (
    "Klassieke", "Stoere", "Zachte", "Compacte", "Luxe", "Handige", "Duurzame", "Kleurrijke", "Matte",
    "Ronde", "Geweven", "Glazen", "Bamboe", "Scandinavische", "Velours",
)  # fmt: skip

PRODUCT_BRANDS: tuple[str, ...] = (
    "CX Basics", "Polderlicht", "Noorderzon", "Grachtwerk", "Tulpa", "Molenaar & Zn.", "Dijkstra Design",
    "Zeeuws Atelier", "Kanaal", "Lindeboom",
)  # fmt: skip

PRODUCT_VARIANTS: tuple[str, ...] = (
    "",
    " 25 cm",
    " 40x40 cm",
    ", zwart",
    ", wit",
    " (2 stuks)",
    " XL",
    " 350 ml",
)

STORE_STREETS: dict[str, tuple[str, ...]] = {
    "Amsterdam": ("Kalverstraat", "Bijlmerplein", "Osdorpplein", "Buikslotermeerplein"),
    "Rotterdam": ("Lijnbaan", "Zuidplein", "Alexandrium"),
    "Den Haag": ("Grote Marktstraat", "Leyweg"),
    "Utrecht": ("Hoog Catharijne", "Kanaleneiland"),
    "Eindhoven": ("Demer", "Woensel"),
    "Groningen": ("Herestraat",),
}

PAYMENT_METHODS: tuple[tuple[str, float], ...] = (
    ("pin", 0.68), ("contant", 0.12), ("creditcard", 0.06), ("apple_pay", 0.10), ("cadeaukaart", 0.04),
)  # fmt: skip

RETURN_REASONS: tuple[str, ...] = (
    "te klein", "te groot", "beschadigd ontvangen", "niet zoals verwacht", "verkeerd artikel", "andere reden",
)  # fmt: skip

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 15; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0 Mobile Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
    "Mozilla/5.0 (iPad; CPU OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0 Mobile Safari/537.36",  # noqa: E501
)

LANDING_PAGES: tuple[str, ...] = (
    "/",
    "/acties",
    "/nieuw",
    "/categorie/wonen",
    "/categorie/keuken",
    "/outlet",
)
SEARCH_TERMS: tuple[str, ...] = (
    "kussen", "koffiemok", "lamp", "powerbank", "pyjama", "puzzel", "bloempot", "douchegel", "cadeau",
    "kerst", "retour", "bezorging",
)  # fmt: skip
HELP_TOPICS: tuple[str, ...] = ("bezorging", "retourneren", "betalen", "account", "contact")
AD_UTM: tuple[tuple[str, str], ...] = (
    ("google", "merk_zoekwoorden"), ("google", "shopping_najaar"), ("facebook", "retargeting_winkelwagen"),
    ("instagram", "najaarscollectie"), ("tiktok", "creators_herfst"),
)  # fmt: skip

SURVEY_COMMENTS_POSITIVE: tuple[str, ...] = (
    "Snel geholpen, heel vriendelijk!",
    'Top service; de medewerker zei "geen probleem" en regelde alles meteen.',
    "Alles op tijd binnen, netjes verpakt.\nZeker een aanrader.",
    "Prima, fijne winkel, goede prijzen.",
    "Heel tevreden, ik kom zeker terug; dank jullie wel!",
)
SURVEY_COMMENTS_NEUTRAL: tuple[str, ...] = (
    "Het was oké, niet meer en niet minder.",
    "Duurde wat lang, maar uiteindelijk geregeld.",
    'Product is "zoals verwacht", levering kon sneller.',
    "Redelijk; de kassa was wel erg druk.",
)
SURVEY_COMMENTS_NEGATIVE: tuple[str, ...] = (
    "Pakket te laat; niemand kon me vertellen waar het was.",
    'Drie keer gebeld en elke keer "we bellen u terug". Nooit gebeld!',
    "Slechte ervaring,\nik ben doorverbonden naar drie afdelingen en het is nog steeds niet opgelost.",
    "Retour duurt veel te lang, geld nog steeds niet terug; erg teleurgesteld.",
    "Onvriendelijk personeel, lange wachtrij, product was op.",
)

SOCIAL_INBOUND: dict[str, tuple[str, ...]] = {
    "bezorging": (
        "Mijn bestelling {order} zou gisteren komen maar er is nog niks! 😡",
        "Hallo, waar blijft mijn pakket? Bestelnummer {order}",
        "Al 3 dagen wachten op {order}... dit is echt de laatste keer.",
    ),
    "retour": (
        "Ik heb {order} teruggestuurd maar nog geen geld ontvangen, hoe zit dat?",
        "Hoe kan ik een artikel van {order} retourneren?",
    ),
    "klacht": (
        "Ik ben nu al de derde keer aan het bellen en niemand helpt me. Belachelijk.",
        "Slechte service bij jullie klantenservice, ik word steeds doorverbonden.",
    ),
    "vraag": (
        "Hebben jullie de tafellamp ook in het wit?",
        "Is de winkel in {city} zondag open?",
        "Kan ik met een cadeaukaart online betalen?",
    ),
}
SOCIAL_OUTBOUND_FIRST: tuple[str, ...] = (
    "Hoi {first}, wat vervelend! Stuur je ons een DM met je ordernummer? Dan zoeken we het direct uit.",
    "Hallo {first}, sorry voor het wachten. We kijken het meteen voor je na.",
    "Hoi {first}, dank voor je bericht! Mogen we je e-mailadres, zodat we je gegevens kunnen opzoeken?",
)
SOCIAL_OUTBOUND_NEXT: tuple[str, ...] = (
    "We hebben het nagevraagd bij de vervoerder; je pakket wordt vandaag bezorgd.",
    "Je terugbetaling is verwerkt, binnen 3 werkdagen staat het op je rekening.",
    "Ik heb een collega gevraagd je terug te bellen. Fijne dag!",
)
SOCIAL_INBOUND_FOLLOW_UP: tuple[tuple[str, float], ...] = (
    ("Top, dank jullie wel!", 0.7),
    ("Oké, ik wacht het af.", 0.0),
    ("Dat zeiden jullie gisteren ook al...", -0.6),
    ("Duidelijk, bedankt voor de snelle reactie 👍", 0.8),
)
COMPANY_HANDLE = "cxretail_nl"
