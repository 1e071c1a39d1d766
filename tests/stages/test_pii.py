"""PII masking: e-mails, public IPs, phone numbers, IBANs; near-misses left alone; density exclusion (stages/pii.py)."""

from __future__ import annotations

import json

import pytest
from datatrove.data import Document

from corpus_tools.core.document import EXCLUSION_KEY, is_excluded
from corpus_tools.core.errors import ConfigError
from corpus_tools.stages.extract import set_text, text_sha256
from corpus_tools.stages.pii import PiiDensityRule, PiiMasker, iban_valid, mask_pii, phone_regions

# (language, url, text, expected counts, values that must disappear)
CASES = [
    ("deu_Latn", "https://www.beispiel-gmbh.de/impressum",
     "Impressum: Beispiel GmbH, Musterstraße 1, 10115 Berlin. Telefon: 030 1234567, mobil +49 151 23456789. "
     "E-Mail: anna.mueller@beispiel-gmbh.de. Bankverbindung: IBAN DE89 3704 0044 0532 0130 00.",
     {"email": 1, "phone": 2, "iban": 1, "ip": 0},
     ["anna.mueller@beispiel-gmbh.de", "030 1234567", "+49 151 23456789", "DE89 3704 0044 0532 0130 00"]),
    ("fra_Latn", "https://www.mairie-exemple.fr/contact",
     "Pour nous joindre, appelez le 01 42 68 53 00 ou écrivez à accueil@mairie-exemple.fr. "
     "Virement : FR14 2004 1010 0505 0001 3M02 606.",
     {"email": 1, "phone": 1, "iban": 1, "ip": 0},
     ["01 42 68 53 00", "accueil@mairie-exemple.fr", "FR14 2004 1010 0505 0001 3M02 606"]),
    ("pol_Latn", "https://sklep.example.pl/kontakt",
     "Zadzwoń: 601 234 567 lub +48 22 123 45 67. Numer konta: PL61109010140000071219812874.",
     {"email": 0, "phone": 2, "iban": 1, "ip": 0},
     ["601 234 567", "+48 22 123 45 67", "PL61109010140000071219812874"]),
    ("ita_Latn", "https://www.esempio.it/",
     "Per informazioni: 06 6988 3145, oppure scrivete a info@esempio.it; IBAN IT60 X054 2811 1010 0000 0123 456.",
     {"email": 1, "phone": 1, "iban": 1, "ip": 0}, ["06 6988 3145", "info@esempio.it", "IT60 X054 2811 1010 0000 0123 456"]),
    ("nld_Latn", "https://voorbeeld.nl/",
     "De server op 93.184.216.34 en 2606:2800:220:1:248:1893:25c8:1946 reageert traag; bel 020 624 1111.",
     {"email": 0, "phone": 1, "iban": 0, "ip": 2}, ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "020 624 1111"]),
    # a Greek page on a .gr domain whose number is written nationally: the ccTLD gives the region
    ("ell_Grek", "https://www.paradeigma.gr/epikoinonia",
     "Επικοινωνία: τηλέφωνο 210 3236 000, email γραμματεία@παράδειγμα.gr.",
     {"email": 1, "phone": 1, "iban": 0, "ip": 0}, ["210 3236 000", "γραμματεία@παράδειγμα.gr"]),
]


@pytest.mark.parametrize("lang, url, text, expected, values", CASES, ids=[c[0] for c in CASES])
def test_masks_each_entity_in_realistic_multilingual_text(lang, url, text, expected, values):
    masked, counts = mask_pii(text, lang, url)
    assert {k: counts[k] for k in expected} == expected
    assert counts["total"] == sum(expected.values())
    for value in values:
        assert value not in masked
    for kind, n in expected.items():
        assert masked.count({"email": "[EMAIL]", "ip": "[IP]", "phone": "[PHONE]", "iban": "[IBAN]"}[kind]) == n


NEAR_MISSES = [
    ("deu_Latn", "Am 24.12.2023 um 14:30:15 Uhr erschien Version 3.11.4 (Build 10.0.19041.1264), ISBN 978-3-16-148410-0."),
    ("deu_Latn", "Die Jahre 2019-2023 brachten 1.250.000 Euro; siehe Art. 17 Abs. 3, PLZ 10115, Tel.-Durchwahl -12."),
    ("eng_Latn", "Private hosts 10.0.0.1, 172.16.5.4, 192.168.1.1 and 127.0.0.1; docs use 192.0.2.44, 198.51.100.7, "
                 "203.0.113.9, 2001:db8::1, fe80::1 and ::1. MAC 00:1A:2B:3C:4D:5E, std::vector, ratio 3:2:1."),
    ("eng_Latn", "Invalid IBAN DE89 3704 0044 0532 0130 01 and GB82 WEST 1234 5698 7654 3 (too short); "
                 "fictional UK number 07700 900123; ISBN 0-306-40615-2; version v1.2.3.4."),
    # a mistyped IBAN (wrong check digits) whose tail `0115 6166 39` reads as a Dutch phone number
    ("nld_Latn", "Maak het bedrag over naar IBAN: NL56 IGEH 0115 6166 39 o.v.v. uw naam."),
    ("fra_Latn", "Le 14/07/1789, à 15 h 30 ; article L. 121-1 ; 3,14159 ; code postal 75001."),
]


@pytest.mark.parametrize("lang, text", NEAR_MISSES)
def test_near_misses_are_not_masked(lang, text):
    masked, counts = mask_pii(text, lang, None)
    assert counts["total"] == 0, (counts, masked)
    assert masked == text


def test_iban_checksum_and_country_length():
    assert iban_valid("DE89370400440532013000")
    assert not iban_valid("DE89370400440532013001")    # checksum
    assert not iban_valid("DE8937040044053201300")     # length for DE is 22
    assert not iban_valid("QQ89370400440532013000")    # no such country


def test_phone_region_from_cctld_then_language():
    assert phone_regions("deu_Latn", "https://www.example.at/") == ["AT", "DE"]
    assert phone_regions("eng_Latn", "https://shop.example.co.uk/") == ["GB"]
    assert phone_regions("fra_Latn", "https://example.com/") == ["FR"]
    assert phone_regions(None, None) == ["ZZ"]


def test_masker_keeps_content_columns_consistent_and_never_stores_values():
    lang, url, text, expected, values = CASES[0]
    doc = Document(text="", id="d", metadata={"lang": lang, "url": url})
    set_text(doc, text)
    masker = PiiMasker()
    (out,) = list(masker.run(iter([doc])))
    assert not is_excluded(out)
    assert out.metadata["pii_counts"] == {**expected, "total": 4}
    assert out.metadata["text_sha256"] == text_sha256(out.text)
    assert out.metadata["n_chars"] == len(out.text)
    dumped = json.dumps(out.metadata, ensure_ascii=False, default=str) + json.dumps(masker.stats.to_dict(), default=str)
    for value in values:
        assert value not in dumped


def directory_page() -> str:
    rows = [f"Dr. Name{i} Praxis, Tel. 030 12345{i:02d}, praxis{i}@aerzte-berlin.de" for i in range(12)]
    return "Ärzteverzeichnis Berlin\n" + "\n".join(rows)


def test_directory_page_is_excluded_for_pii_density_with_counts_only():
    doc = Document(text=directory_page(), id="dir", metadata={"lang": "deu_Latn", "url": "https://verzeichnis.de/"})
    (out,) = list(PiiDensityRule().run(PiiMasker().run(iter([doc]))))
    assert is_excluded(out)
    exc = out.metadata[EXCLUSION_KEY]
    assert (exc["stage"], exc["reason"], exc["rule"]) == ("pii", "pii_density", "pii_density_v2")
    evidence = json.loads(exc["evidence"])
    assert evidence["counts"]["email"] == 12 and evidence["counts"]["phone"] == 12
    assert evidence["density"] > evidence["threshold"]
    assert "@" not in exc["evidence"] and "030" not in exc["evidence"]


def test_label_only_masks_but_keeps_dense_pages():
    doc = Document(text=directory_page(), id="dir", metadata={"lang": "deu_Latn", "url": "https://verzeichnis.de/"})
    (out,) = list(PiiDensityRule(label_only=True).run(PiiMasker().run(iter([doc]))))
    assert not is_excluded(out)
    assert "@aerzte-berlin.de" not in out.text and out.metadata["pii_counts"]["total"] == 24


def test_one_address_in_a_short_note_is_masked_not_dropped():
    doc = Document(text="Fragen? info@beispiel.de", id="n", metadata={"lang": "deu_Latn"})
    (out,) = list(PiiMasker().run(iter([doc])))
    assert not is_excluded(out) and out.text == "Fragen? [EMAIL]"


def test_bad_density_fails_at_start():
    with pytest.raises(ConfigError, match="max_density"):
        PiiDensityRule(max_density=0)


def test_title_is_masked_too():
    from datatrove.data import Document

    from corpus_tools.stages.pii import PiiMasker

    doc = Document(text="Ein ganz normaler Text ohne Kontaktdaten, aber mit vielen Wörtern darin.", id="t",
                   metadata={"lang": "deu_Latn", "url": "https://example.de/", "title": "Kontakt: anna.schmidt@example.de"})
    PiiMasker().process(doc)
    assert "anna.schmidt" not in doc.metadata["title"] and "[EMAIL]" in doc.metadata["title"]


# issue 26: strings from real German news pages that phonenumbers accepts as valid DE numbers
GERMAN_NOT_PHONES = ["am 09.07.2019", "vom 02.08.2019", "bis zum 05.12.1972 00 UTC", "Er wurde 1643 selig",
                     "im Jahr 1681", "durchschnittlich 394.000 pro Tag", "»Jungle World« 35/2023", "15.00 – 16.45"]


@pytest.mark.parametrize("snippet", GERMAN_NOT_PHONES)
def test_dates_years_counts_and_issues_in_german_text_are_not_masked(snippet):
    text = f"Wie die Zeitung berichtet, geschah es {snippet}, sagte der Sprecher der Stadt."
    for url in ("https://www.zeitung.de/artikel", None):
        masked, counts = mask_pii(text, "deu_Latn", url)
        assert masked == text and counts["phone"] == 0, masked


EU_REGIONS = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
              "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]


@pytest.mark.parametrize("region", EU_REGIONS)
def test_a_phone_in_each_eu_countrys_format_is_masked(region):
    import phonenumbers

    for ptype in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
        number = phonenumbers.example_number_for_type(region, ptype)
        for fmt in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL):
            phone = phonenumbers.format_number(number, fmt)
            tld = region.lower()
            masked, counts = mask_pii(f"Kontakt: Tel. {phone}, Mo–Fr.", None, f"https://www.amt.{tld}/")
            assert phone not in masked and counts["phone"] == 1, (region, phone, masked)


def test_a_national_number_needs_a_label_or_its_national_grouping():
    assert mask_pii("Bestellnummer 0301234567 im Katalog.", "deu_Latn", "https://shop.de/")[1]["phone"] == 0
    assert mask_pii("Zentrale 030 1234567, Empfang.", "deu_Latn", "https://shop.de/")[1]["phone"] == 1
    assert mask_pii("Telefon 0301234567", "deu_Latn", "https://shop.de/")[1]["phone"] == 1
    # digits in threes split by spaces are a count unless a label says phone
    assert mask_pii("Rok 2023: 601 234 567 złotych.", "pol_Latn", "https://gmina.pl/")[1]["phone"] == 0
    assert mask_pii("Zadzwoń: tel. 601 234 567.", "pol_Latn", "https://gmina.pl/")[1]["phone"] == 1


def test_fediverse_handles_are_not_e_mail_addresses():
    masked, counts = mask_pii("Via @b2c@wien.rocks, or mail b2c@wien.example.", "eng_Latn", None)
    assert counts["email"] == 1 and masked == "Via @b2c@wien.rocks, or mail [EMAIL]."
