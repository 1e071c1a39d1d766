"""Planted PII benchmark sets for benchmarks/pii_precision.py: phone numbers in each country's formats and dates,
times, years, counts and issue numbers in each language's conventions, inside short sentences of that language.

Everything here is generated deterministically (fixed seeds) from `phonenumbers` example numbers and our own
sentence frames; nothing is downloaded. Each item: (set, lang, url, text, start, end, type).
"""

from __future__ import annotations

import random

import phonenumbers

# language: (page ccTLD region, phone sentence with a label, phone sentence without one, date frame, count frame)
# the frames are ours, one ordinary sentence per language; {p} is the phone, {x} the date, time or number
FRAMES = {
    "bul_Cyrl": ("BG", "За въпроси: тел. {p}, всеки делничен ден.", "Офисът в София {p} работи до 18 ч.",
                 "Срещата е на {x} в залата.", "Посетителите са средно {x} на ден."),
    "ces_Latn": ("CZ", "Informace na tel. {p} každý všední den.", "Kancelář v Brně {p} je otevřena do 16 hodin.",
                 "Schůze se koná {x} v sále.", "Denně přijde v průměru {x} návštěvníků."),
    "dan_Latn": ("DK", "Spørgsmål? Ring på tlf. {p} på hverdage.", "Kontoret i Aarhus {p} har åbent til kl. 16.",
                 "Mødet holdes den {x} i salen.", "Der kommer i gennemsnit {x} besøgende om dagen."),
    "deu_Latn": ("DE", "Fragen beantworten wir unter Tel. {p} werktags.", "Die Geschäftsstelle {p} ist bis 16 Uhr besetzt.",
                 "Die Sitzung fand am {x} im Rathaus statt.", "Es kamen durchschnittlich {x} Besucher pro Tag."),
    "ell_Grek": ("GR", "Πληροφορίες στο τηλ. {p} τις καθημερινές.", "Το γραφείο της Αθήνας {p} είναι ανοιχτό ως τις 4.",
                 "Η συνεδρίαση έγινε στις {x} στην αίθουσα.", "Έρχονται κατά μέσο όρο {x} επισκέπτες την ημέρα."),
    "eng_Latn": ("GB", "For questions call us on tel. {p} on weekdays.", "The Leeds office {p} is staffed until 4 pm.",
                 "The meeting took place on {x} in the town hall.", "On average {x} visitors came per day."),
    "est_Latn": ("EE", "Küsimuste korral helistage tel. {p} tööpäeviti.", "Tartu kontor {p} on avatud kella neljani.",
                 "Koosolek toimus {x} saalis.", "Päevas käis keskmiselt {x} külastajat."),
    "fin_Latn": ("FI", "Lisätietoja puh. {p} arkisin.", "Tampereen toimisto {p} on auki neljään asti.",
                 "Kokous pidettiin {x} valtuustosalissa.", "Kävijöitä oli keskimäärin {x} päivässä."),
    "fra_Latn": ("FR", "Pour tout renseignement, tél. {p} en semaine.", "Le bureau de Lyon {p} est ouvert jusqu'à 16 h.",
                 "La séance a eu lieu le {x} à la mairie.", "Il y a eu en moyenne {x} visiteurs par jour."),
    "gle_Latn": ("IE", "Le haghaidh eolais, guthán {p} i rith na seachtaine.", "Tá oifig na Gaillimhe {p} ar oscailt go dtí a ceathair.",
                 "Bhí an cruinniú ar siúl ar {x} sa halla.", "Tháinig {x} cuairteoir in aghaidh an lae ar an meán."),
    "hrv_Latn": ("HR", "Za pitanja nazovite tel. {p} radnim danom.", "Ured u Splitu {p} radi do 16 sati.",
                 "Sjednica je održana {x} u vijećnici.", "Dnevno je u prosjeku dolazilo {x} posjetitelja."),
    "hun_Latn": ("HU", "Érdeklődni a tel. {p} számon lehet hétköznap.", "A szegedi iroda {p} négyig tart nyitva.",
                 "Az ülést {x} tartották a városházán.", "Naponta átlagosan {x} látogató érkezett."),
    "isl_Latn": ("IS", "Upplýsingar í síma {p} virka daga.", "Skrifstofan á Akureyri {p} er opin til fjögur.",
                 "Fundurinn var haldinn {x} í ráðhúsinu.", "Að meðaltali komu {x} gestir á dag."),
    "ita_Latn": ("IT", "Per informazioni chiamate il tel. {p} nei giorni feriali.", "L'ufficio di Torino {p} è aperto fino alle 16.",
                 "La seduta si è tenuta il {x} in municipio.", "In media sono arrivati {x} visitatori al giorno."),
    "lav_Latn": ("LV", "Jautājumu gadījumā zvaniet, tālr. {p} darbdienās.", "Birojs Liepājā {p} strādā līdz plkst. 16.",
                 "Sēde notika {x} rātsnamā.", "Dienā vidēji ieradās {x} apmeklētāju."),
    "lit_Latn": ("LT", "Dėl informacijos skambinkite tel. {p} darbo dienomis.", "Kauno biuras {p} dirba iki 16 val.",
                 "Posėdis įvyko {x} rotušėje.", "Per dieną vidutiniškai apsilankydavo {x} lankytojų."),
    "mlt_Latn": ("MT", "Għal aktar informazzjoni ċempel tel. {p} matul il-ġimgħa.", "L-uffiċċju f'Għawdex {p} miftuħ sal-erbgħa.",
                 "Il-laqgħa saret fil-{x} fis-sala.", "Bħala medja ġew {x} viżitaturi kuljum."),
    "nld_Latn": ("NL", "Voor vragen kunt u bellen: tel. {p} op werkdagen.", "Het kantoor in Utrecht {p} is open tot 16 uur.",
                 "De vergadering vond plaats op {x} in het stadhuis.", "Er kwamen gemiddeld {x} bezoekers per dag."),
    "nob_Latn": ("NO", "Spørsmål? Ring tlf. {p} på hverdager.", "Kontoret i Bergen {p} er åpent til klokka fire.",
                 "Møtet ble holdt {x} i rådhuset.", "Det kom i gjennomsnitt {x} besøkende per dag."),
    "pol_Latn": ("PL", "Informacje pod numerem tel. {p} w dni robocze.", "Biuro w Krakowie {p} jest czynne do 16.",
                 "Posiedzenie odbyło się {x} w ratuszu.", "Dziennie przychodziło średnio {x} osób."),
    "por_Latn": ("PT", "Para informações ligue tel. {p} nos dias úteis.", "O escritório do Porto {p} está aberto até às 16h.",
                 "A reunião realizou-se a {x} na câmara.", "Em média vieram {x} visitantes por dia."),
    "ron_Latn": ("RO", "Pentru informații sunați la tel. {p} în zilele lucrătoare.", "Biroul din Cluj {p} este deschis până la ora 16.",
                 "Ședința a avut loc pe {x} la primărie.", "În medie au venit {x} vizitatori pe zi."),
    "slk_Latn": ("SK", "Informácie na tel. {p} v pracovné dni.", "Kancelária v Košiciach {p} je otvorená do 16 hodín.",
                 "Zasadnutie sa konalo {x} v sále.", "Denne prišlo v priemere {x} návštevníkov."),
    "slv_Latn": ("SI", "Za vprašanja pokličite tel. {p} ob delavnikih.", "Pisarna v Mariboru {p} je odprta do 16. ure.",
                 "Seja je bila {x} v dvorani.", "Na dan je v povprečju prišlo {x} obiskovalcev."),
    "spa_Latn": ("ES", "Para más información llame al tel. {p} en días laborables.", "La oficina de Sevilla {p} abre hasta las 16 h.",
                 "La sesión se celebró el {x} en el ayuntamiento.", "De media llegaron {x} visitantes al día."),
    "swe_Latn": ("SE", "Frågor? Ring tel. {p} på vardagar.", "Kontoret i Malmö {p} har öppet till klockan fyra.",
                 "Mötet hölls den {x} i stadshuset.", "I genomsnitt kom {x} besökare per dag."),
}
# countries whose numbers are written on pages of another frame's language (EU and EEA members)
EXTRA_REGIONS = [("deu_Latn", "AT"), ("deu_Latn", "LU"), ("fra_Latn", "BE"), ("nld_Latn", "BE"), ("fra_Latn", "LU"),
                 ("ell_Grek", "CY"), ("eng_Latn", "IE"), ("eng_Latn", "MT"), ("swe_Latn", "FI"), ("deu_Latn", "LI")]
PHONE_TYPES = [phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
               phonenumbers.PhoneNumberType.TOLL_FREE]

# date conventions per language (strftime-like: d day, m month, Y year, zero-padded when doubled)
DOT = "dd.mm.YYYY"
DATE_FORMATS = {
    "bul_Cyrl": [DOT], "ces_Latn": [DOT, "d. m. YYYY"], "dan_Latn": [DOT, "dd-mm-YYYY"], "deu_Latn": [DOT, "d.m.YYYY"],
    "ell_Grek": ["dd/mm/YYYY"], "eng_Latn": ["dd/mm/YYYY", "mm/dd/YYYY"], "est_Latn": [DOT], "fin_Latn": [DOT, "d.m.YYYY"],
    "fra_Latn": ["dd/mm/YYYY"], "gle_Latn": ["dd/mm/YYYY"], "hrv_Latn": [DOT, "d. m. YYYY"], "hun_Latn": ["YYYY.mm.dd", "YYYY. mm. dd"],
    "isl_Latn": [DOT], "ita_Latn": ["dd/mm/YYYY", "dd.mm.YYYY"], "lav_Latn": [DOT], "lit_Latn": [DOT],
    "mlt_Latn": ["dd/mm/YYYY"], "nld_Latn": ["dd-mm-YYYY", "d-m-YYYY"], "nob_Latn": [DOT], "pol_Latn": [DOT, "dd/mm/YYYY"],
    "por_Latn": ["dd/mm/YYYY", "dd-mm-YYYY"], "ron_Latn": [DOT], "slk_Latn": [DOT, "d. m. YYYY"], "slv_Latn": [DOT, "d. m. YYYY"],
    "spa_Latn": ["dd/mm/YYYY", "d/m/YYYY"], "swe_Latn": ["YYYY-mm-dd"],
}
COUNT_SEP = {"eng_Latn": ",", "gle_Latn": ",", "mlt_Latn": ","}
SPACE_COUNT = {"bul_Cyrl", "ces_Latn", "est_Latn", "fin_Latn", "fra_Latn", "hun_Latn", "lav_Latn", "lit_Latn",
               "nob_Latn", "pol_Latn", "slk_Latn", "swe_Latn", "por_Latn"}


def cctld_url(region: str) -> str:
    return f"https://www.example.{'uk' if region == 'GB' else region.lower()}/"


def _fill(frame: str, slot: str, value: str, lang: str, url: str, set_name: str, kind: str) -> tuple:
    before, after = frame.split("{" + slot + "}")
    return (set_name, lang, url, before + value + after, len(before), len(before) + len(value), kind)


def planted_phones() -> list[tuple]:
    """Example numbers of each type for each region, national and international forms, with and without a
    phone label in a sentence of the page's language; the page's URL has the region's ccTLD."""
    pairs = [(lang, f[0]) for lang, f in FRAMES.items()] + EXTRA_REGIONS
    items = []
    for lang, region in pairs:
        labelled, plain = FRAMES[lang][1], FRAMES[lang][2]
        for ptype in PHONE_TYPES:
            number = phonenumbers.example_number_for_type(region, ptype)
            if number is None:
                continue
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            zero = "00" + intl[1:]
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            url = cctld_url(region)
            for form, value, frame in (("national+label", national, labelled), ("international+label", intl, labelled),
                                       ("00+label", zero, labelled), ("e164", e164, plain),
                                       ("international", intl, plain), ("national", national, plain)):
                items.append((f"phone:{form}",) + _fill(frame, "p", value, lang, url, "planted_phone", "phone")[1:])
    return items


def _date(fmt: str, y: int, m: int, d: int) -> str:
    return (fmt.replace("YYYY", str(y)).replace("dd", f"{d:02d}").replace("mm", f"{m:02d}")
            .replace("d", str(d)).replace("m", str(m)))


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def planted_numbers(per_format: int = 25, seed: int = 26) -> list[tuple]:
    """Dates (every language's conventions and ISO), times, years, year ranges, counts with the language's
    thousands separator and issue numbers, each in the language's sentence frame on a ccTLD page."""
    rng = random.Random(seed)
    items = []
    for lang, frame in FRAMES.items():
        region, date_frame, count_frame = frame[0], frame[3], frame[4]
        url = cctld_url(region)

        def add(value, kind, text_frame=date_frame):
            items.append(_fill(text_frame, "x", value, lang, url, "planted_number", kind))

        for fmt in DATE_FORMATS[lang] + ["YYYY-mm-dd"]:
            for _ in range(per_format):
                add(_date(fmt, rng.randint(1900, 2030), rng.randint(1, 12), rng.randint(1, 28)), "date")
        for _ in range(per_format):
            h1, m1 = rng.randint(7, 20), rng.choice([0, 15, 30, 45])
            h2, m2 = h1 + rng.randint(1, 3), rng.choice([0, 15, 30, 45])
            add(f"{h1}.{m1:02d} – {h2}.{m2:02d}", "time")
            add(f"{h1:02d}:{m1:02d}", "time")
            add(f"{h1}.{m1:02d}–{h2}.{m2:02d}", "time")
            add(str(rng.randint(1000, 2030)), "year")
            y = rng.randint(1500, 2020)
            add(f"{y}–{y + rng.randint(1, 9)}", "year_range")
            add(f"{y}-{(y + rng.randint(1, 9)) % 100:02d}", "year_range")
            add(f"{rng.randint(1, 52)}/{rng.randint(1990, 2025)}", "issue")
        seps = [COUNT_SEP.get(lang, ".")] + ([" ", "\u00a0"] if lang in SPACE_COUNT else [])
        for sep in seps:
            for value in [1_234_567, 394_000] + [rng.randint(1_000, 99_999_999) for _ in range(per_format)] \
                    + [rng.randint(1, 999) * 1_000_000 for _ in range(5)]:
                add(_group(value, sep), "count", count_frame)
    return items
