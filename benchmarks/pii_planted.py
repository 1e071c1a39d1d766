"""Planted PII benchmark sets for benchmarks/pii_precision.py: phone numbers in each country's formats and dates,
times, years, counts and issue numbers in each language's conventions, inside short sentences of that language.

Everything here is generated deterministically (fixed seeds) from `phonenumbers` example numbers and our own
sentence frames; nothing is downloaded. Each item: (set, lang, url, text, start, end, type).
"""

from __future__ import annotations

import random
import re

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


# IBAN BBAN layouts (SWIFT IBAN registry): n digits, a capital letters, c letters or digits; the length of the
# whole IBAN is checked against corpus_tools.stages.pii.IBAN_LENGTHS when the set is built
BBAN = {
    "AT": "16n", "BE": "12n", "BG": "4a6n8c", "HR": "17n", "CY": "8n16c", "CZ": "20n", "DK": "14n", "EE": "16n",
    "FI": "14n", "FR": "10n11c2n", "DE": "18n", "GR": "7n16c", "HU": "24n", "IE": "4a14n", "IT": "1a10n12c",
    "LV": "4a13c", "LT": "16n", "LU": "3n13c", "MT": "4a5n18c", "NL": "4a10n", "PL": "24n", "PT": "21n",
    "RO": "4a16c", "SK": "20n", "SI": "15n", "ES": "20n", "SE": "20n",
    "AL": "8n16c", "BA": "16n", "ME": "18n", "MK": "3n10c2n", "RS": "18n", "TR": "6n16c", "UA": "6n19c",
    "GE": "2a16n", "NO": "11n", "IS": "22n", "CH": "5n12c", "LI": "5n12c",
}
# country: (page language, sentence with "IBAN", sentence with the language's usual account label); {x} the
# IBAN. Our own sentences.
IBAN_FRAMES = {
    "AT": ("deu_Latn", "Spenden bitte auf IBAN: {x}, Verwendungszweck Jahresbeitrag.", "Kontonummer {x} bei der Raiffeisenbank."),
    "BE": ("nld_Latn", "Stort het bedrag op IBAN {x} voor 1 maart.", "Rekeningnummer: {x} (vzw De Schakel)."),
    "BG": ("bul_Cyrl", "Дарения по сметка IBAN: {x}, основание дарение.", "Банкова сметка {x} в лева."),
    "HR": ("hrv_Latn", "Uplate na IBAN: {x}, poziv na broj 2024.", "Broj računa {x} otvoren je u Zagrebu."),
    "CY": ("ell_Grek", "Καταθέσεις στον IBAN: {x} με την ένδειξη συνδρομή.", "Αριθμός λογαριασμού {x} στην Τράπεζα Κύπρου."),
    "CZ": ("ces_Latn", "Platbu pošlete na IBAN: {x} do konce měsíce.", "Číslo účtu {x} vede naše banka."),
    "DK": ("dan_Latn", "Indbetal på IBAN: {x} senest fredag.", "Kontonummer {x} i Danske Bank."),
    "EE": ("est_Latn", "Annetused IBAN: {x}, selgitus liikmemaks.", "Arveldusarve {x} on Swedbankis."),
    "FI": ("fin_Latn", "Maksu tilille IBAN: {x} eräpäivään mennessä.", "Tilinumero {x}, viitenumero 1232."),
    "FR": ("fra_Latn", "Virement sur l'IBAN : {x} avant le 15 mars.", "Numéro de compte {x} au Crédit Agricole."),
    "DE": ("deu_Latn", "Überweisung bitte an IBAN: {x}, Betreff Mitgliedsbeitrag.", "Bankverbindung: Kontonummer {x} bei der Sparkasse."),
    "GR": ("ell_Grek", "Καταθέσεις στον IBAN: {x} έως την Παρασκευή.", "Αριθμός λογαριασμού {x} στην Εθνική Τράπεζα."),
    "HU": ("hun_Latn", "Az összeget az IBAN: {x} számlára utalja.", "Bankszámlaszám {x}, közlemény: tagdíj."),
    "IE": ("eng_Latn", "Please pay by transfer to IBAN: {x} before Friday.", "Account number {x} with Bank of Ireland."),
    "IT": ("ita_Latn", "Bonifico sull'IBAN: {x} entro fine mese.", "Conto corrente {x} presso la banca."),
    "LV": ("lav_Latn", "Ziedojumus pārskaitiet uz IBAN: {x} līdz piektdienai.", "Konta numurs {x} Swedbank."),
    "LT": ("lit_Latn", "Mokestį pervesti į IBAN: {x} iki mėnesio pabaigos.", "Sąskaitos numeris {x} banke."),
    "LU": ("fra_Latn", "Paiement par virement, IBAN : {x}, communication cotisation.", "Compte bancaire {x} auprès de la BCEE."),
    "MT": ("mlt_Latn", "Ħallas bit-trasferiment lill-IBAN: {x} qabel il-Ġimgħa.", "In-numru tal-kont {x} mal-bank."),
    "NL": ("nld_Latn", "Maak het bedrag over naar IBAN: {x} o.v.v. uw naam.", "Rekeningnummer {x} t.n.v. Stichting Vrienden."),
    "PL": ("pol_Latn", "Wpłaty na IBAN: {x} do końca miesiąca.", "Numer konta {x} w banku PKO."),
    "PT": ("por_Latn", "Transferência para o IBAN: {x} até sexta-feira.", "NIB / conta {x} na Caixa Geral."),
    "RO": ("ron_Latn", "Plata se face în contul IBAN: {x} până vineri.", "Cont bancar {x} deschis la BCR."),
    "SK": ("slk_Latn", "Platbu pošlite na IBAN: {x} do konca mesiaca.", "Číslo účtu {x} vo Všeobecnej úverovej banke."),
    "SI": ("slv_Latn", "Nakazilo na IBAN: {x}, sklic 00 2024.", "Transakcijski račun {x} pri NLB."),
    "ES": ("spa_Latn", "Transferencia a la cuenta IBAN: {x} antes del viernes.", "Número de cuenta {x} en el banco."),
    "SE": ("swe_Latn", "Betala till IBAN: {x} senast fredag.", "Kontonummer {x} hos Swedbank."),
    "AL": ("sqi_Latn", "Pagesa bëhet në IBAN: {x} deri të premten.", "Numri i llogarisë {x} në bankë."),
    "BA": ("bos_Latn", "Uplate na IBAN: {x} do kraja mjeseca.", "Broj računa {x} kod banke u Sarajevu."),
    "ME": ("cnr_Latn", "Uplate na IBAN: {x} do petka.", "Žiro račun {x} kod banke u Podgorici."),
    "MK": ("mkd_Cyrl", "Уплата на IBAN: {x} до крајот на месецот.", "Жиро сметка {x} во банка."),
    "RS": ("srp_Cyrl", "Уплата на IBAN: {x} до петка.", "Број рачуна {x} у банци."),
    "TR": ("tur_Latn", "Bağışlar için IBAN: {x} hesabına gönderin.", "Hesap numarası {x} Ziraat Bankası."),
    "UA": ("ukr_Cyrl", "Оплата на рахунок IBAN: {x} до п'ятниці.", "Номер рахунку {x} у ПриватБанку."),
    "GE": ("kat_Geor", "გადარიცხვა IBAN: {x} პარასკევამდე.", "ანგარიშის ნომერი {x} ბანკში."),
    "NO": ("nob_Latn", "Betal til IBAN: {x} innen fredag.", "Kontonummer {x} i DNB."),
    "IS": ("isl_Latn", "Greiðið inn á IBAN: {x} fyrir föstudag.", "Reikningsnúmer {x} hjá Landsbankanum."),
    "CH": ("deu_Latn", "Einzahlung auf IBAN: {x}, Vermerk Jahresbeitrag.", "Konto-Nr. {x} bei der Kantonalbank."),
    "LI": ("deu_Latn", "Überweisung an IBAN: {x} bis Ende Monat.", "Kontonummer {x} bei der Landesbank."),
}
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _bban(layout: str, rng: random.Random) -> str:
    out = []
    for count, kind in re.findall(r"(\d+)([nac])", layout):
        for _ in range(int(count)):
            # c fields are mostly digits in practice (account numbers), with an occasional letter
            pool = {"n": _ALNUM[:10], "a": _ALNUM[10:], "c": _ALNUM if rng.random() < 0.15 else _ALNUM[:10]}[kind]
            out.append(rng.choice(pool))
    return "".join(out)


def iban_check(country: str, bban: str) -> str:
    """The two ISO 13616 check digits: 98 - (BBAN + country + '00' as a number) mod 97."""
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def printed(compact: str) -> str:
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def planted_ibans(per_country: int = 3, seed: int = 26) -> list[tuple]:
    """Valid IBANs of every EU country and of the candidate and EEA countries that use IBAN (random BBANs in the
    country's layout, check digits computed), compact and printed in groups of four, after `IBAN:` and after the
    language's account label; and IBAN-like strings that are not IBANs: wrong check digits, one character short,
    an order number `DE-2021-0042`, a product code `DE12-4711-A`. Set names `iban:FORM` and `iban_neg:KIND`."""
    from corpus_tools.stages.pii import IBAN_LENGTHS

    rng = random.Random(seed)
    items = []
    for country, (lang, with_iban, with_label) in IBAN_FRAMES.items():
        url = cctld_url(country)

        def add(set_name, value, kind, frame):
            items.append((set_name,) + _fill(frame, "x", value, lang, url, set_name, kind)[1:])

        for _ in range(per_country):
            bban = _bban(BBAN[country], rng)
            compact = country + iban_check(country, bban) + bban
            if len(compact) != IBAN_LENGTHS[country]:
                raise ValueError(f"BBAN layout of {country} gives {len(compact)} characters, the registry says "
                                 f"{IBAN_LENGTHS[country]}: fix BBAN[{country!r}]")
            for frame in (with_iban, with_label):
                add("iban:compact", compact, "iban", frame)
                add("iban:printed", printed(compact), "iban", frame)
            wrong = country + f"{(int(compact[2:4]) + rng.randint(1, 96)) % 97 + 2:02d}"[-2:] + bban
            if wrong[2:4] == compact[2:4]:  # only 97 check values exist; step once more
                wrong = country + f"{(int(compact[2:4]) % 97) + 1:02d}" + bban
            add("iban_neg:wrong_check", printed(wrong), "iban_wrong_check", with_iban)
            add("iban_neg:wrong_check", wrong, "iban_wrong_check", with_label)
            add("iban_neg:too_short", printed(compact[:-1]), "iban_short", with_iban)
            add("iban_neg:too_short", compact[:-1], "iban_short", with_label)
        year = rng.randint(2015, 2025)
        add("iban_neg:order_no", f"{country}-{year}-{rng.randint(1, 9999):04d}", "order_no", with_label)
        add("iban_neg:product_code", f"{country}{rng.randint(10, 99)}-{rng.randint(1000, 9999)}-"
            f"{rng.choice(_ALNUM[10:])}", "product_code", with_label)
        add("iban_neg:product_code", f"{country}{rng.randint(10, 99)} {_bban('4a4n', rng)}", "product_code", with_label)
    return items
