"""The synthetic population: persons grouped in households, with their identifiers and latent traits.

Everything here is the *truth*: canonical identifier values (lower-case e-mail, 9-digit phone numbers,
``1234AB`` postcodes). How they are written in the extracts is decided by the channels at delivery time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from cx_warehouse.generator.clock import epoch_seconds
from cx_warehouse.generator.identifiers import RESERVED_NATIONAL_NUMBERS, ascii_fold, messy_emails, uuids
from cx_warehouse.generator.reference import (
    CITIES,
    EMAIL_DOMAINS,
    EXCLUDED_POSTCODE_LETTERS,
    FIRST_NAMES,
    LAST_NAMES,
    USER_AGENTS,
)

NEVER = np.iinfo(np.int32).max  # "day" of something that never happens
PLATFORMS = ("x", "facebook", "instagram", "whatsapp")
MOBILE_PLACEHOLDERS = frozenset(r for r in RESERVED_NATIONAL_NUMBERS if r.startswith("6"))

SHARE_PRE_EXISTING = 0.85  # persons who are customers before the first day
SHARE_PERSONAL_EMAIL = 0.92
SHARE_MOBILE = 0.88
SHARE_LANDLINE_HOUSEHOLD = 0.35
SHARE_SHARED_EMAIL_HOUSEHOLD = 0.15  # of households with two or more persons
SHARE_ACCOUNT = 0.60
SHARE_LOYALTY_BEFORE = 0.35
SHARE_LOYALTY_DURING = 0.05
SHARE_WEB = 0.80
SHARE_SOCIAL = 0.20
HOUSEHOLD_SIZES = (np.array([1, 2, 3, 4, 5]), np.array([0.35, 0.33, 0.14, 0.13, 0.05]))


@dataclass
class Households:
    last_name: np.ndarray
    city: np.ndarray  # index into reference.CITIES
    postcode: np.ndarray  # canonical "1234AB"
    house_number: np.ndarray
    landline: np.ndarray  # index into Phones, -1 when none
    shared_email: np.ndarray  # index into Emails, -1 when none


@dataclass
class Emails:
    """Every real e-mail address (not placeholders): personal ones and household ones."""

    address: np.ndarray  # canonical: lower-case, no spaces (may contain accents)
    esp_form: np.ndarray  # as the e-mail service provider holds it
    owner: np.ndarray  # person index, -1 for a household address
    household: np.ndarray  # household index for household addresses, else -1


class Phones:
    """Every real phone number; grows when persons get a new mobile during the simulated period.

    New mobiles come from a pool of spare numbers drawn with the population; when a long run uses them
    all, the pool is topped up from ``rng`` with further numbers that no one has and that are no
    placeholder, so the number of phone changes is not limited by the size of the first pool.
    """

    def __init__(
        self,
        nsn: list[str],
        owner: list[int],
        household: list[int],
        spare: list[str],
        rng: np.random.Generator,
    ) -> None:
        capacity = len(nsn) + len(spare)
        self.nsn = np.empty(capacity, dtype="U9")
        self.owner = np.full(capacity, -1, dtype=np.int64)
        self.household = np.full(capacity, -1, dtype=np.int64)
        self.count = len(nsn)
        self.nsn[: self.count] = nsn
        self.owner[: self.count] = owner
        self.household[: self.count] = household
        self._spare = spare  # unused unique mobile numbers for new phones
        self._rng = rng  # only used to top up the spare numbers

    def add_mobiles(self, owners: np.ndarray) -> np.ndarray:
        """Give each owner a new, unused mobile number; returns the new phone indices."""
        n = len(owners)
        if n > len(self._spare):
            self._top_up(n - len(self._spare))
        self._reserve(self.count + n)
        idx = np.arange(self.count, self.count + n)
        self.nsn[idx] = self._spare[:n]
        self.owner[idx] = owners
        del self._spare[:n]
        self.count += n
        return idx

    def _top_up(self, shortfall: int) -> None:
        """Draw at least ``shortfall`` more spare mobiles (and a margin, so that this is rare)."""
        want = max(shortfall, self.count // 20 + 50)
        taken = set(self.nsn[: self.count].tolist()) | set(self._spare) | MOBILE_PLACEHOLDERS
        fresh: list[str] = []
        while len(fresh) < want:
            for v in self._rng.integers(0, 10**8, size=2 * (want - len(fresh))).tolist():
                number = f"6{v:08d}"
                if number not in taken and len(fresh) < want:
                    taken.add(number)
                    fresh.append(number)
        self._spare.extend(fresh)

    def _reserve(self, size: int) -> None:
        """Make room for ``size`` phones (the arrays only grow after a top-up)."""
        capacity = len(self.nsn)
        if size <= capacity:
            return
        extra = max(size, self.count + len(self._spare)) - capacity
        self.nsn = np.r_[self.nsn, np.empty(extra, dtype="U9")]
        self.owner = np.r_[self.owner, np.full(extra, -1, dtype=np.int64)]
        self.household = np.r_[self.household, np.full(extra, -1, dtype=np.int64)]


@dataclass
class Cookies:
    cookie_id: np.ndarray  # anonymous_id as delivered
    person: np.ndarray
    can_login: np.ndarray  # the person ever logs in on this browser
    user_agent: np.ndarray  # index into reference.USER_AGENTS


@dataclass
class Population:
    n: int
    person_id: np.ndarray
    household: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    gender: np.ndarray  # "M", "V", "X" or "" (not given)
    birth_day: np.ndarray  # days since 1970-01-01
    created_day: np.ndarray  # first business day as a customer, -1 before the range
    engagement: np.ndarray  # latent: scales opens, clicks, sessions and purchases
    store_affinity: np.ndarray
    web_affinity: np.ndarray
    base_churn_logit: np.ndarray  # latent daily churn hazard (logit) before experiences
    email: np.ndarray  # personal e-mail index, -1 when none
    mobile: np.ndarray  # current mobile phone index, -1 when none
    esp_email: np.ndarray  # the address the e-mail service provider mails, -1 when none
    account_id: np.ndarray  # webshop account, "" when none
    account_email: np.ndarray  # the e-mail as stored in the webshop account
    loyalty_card: np.ndarray  # "" when none
    loyalty_day: np.ndarray  # day from which the card exists (-1 before the range, NEVER when none)
    cookie_start: np.ndarray
    cookie_count: np.ndarray
    social_platform: np.ndarray  # "" when none
    social_handle: np.ndarray  # as the platform shows it (mixed case, maybe a leading @)
    households: Households
    emails: Emails
    phones: Phones
    cookies: Cookies


def _weighted(rng: np.random.Generator, weights: list[float] | np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _unique_numbers(rng: np.random.Generator, n: int, digits: int, reserved: frozenset[str]) -> list[str]:
    """``n`` distinct zero-padded random numbers of ``digits`` digits, none of them in ``reserved``."""
    values = rng.choice(10**digits, size=n + len(reserved), replace=False)
    text = [f"{v:0{digits}d}" for v in values.tolist()]
    return [t for t in text if t not in reserved][:n]


def _unique_strings(candidates: list[str], variant: Callable[[str, int], str]) -> list[str]:
    """Make candidates unique ignoring case, in order: the k-th repeat (k >= 2) becomes ``variant(c, k)``."""
    seen: set[str] = set()
    repeats: dict[str, int] = {}  # candidate -> last k used, so that common names stay fast
    out = []
    for cand in candidates:
        value, k = cand, repeats.get(cand, 1)
        while value.lower() in seen:
            k += 1
            value = variant(cand, k)
        repeats[cand] = k
        seen.add(value.lower())
        out.append(value)
    return out


def _households(rng: np.random.Generator, n: int) -> tuple[np.ndarray, Households]:
    """Household of every person, and the households' name and address."""
    sizes = rng.choice(HOUSEHOLD_SIZES[0], size=n, p=HOUSEHOLD_SIZES[1])
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    household = np.repeat(np.arange(len(sizes)), sizes)[:n]
    h = len(sizes)
    city = _weighted(rng, [c.weight for c in CITIES], h)
    lo = np.array([c.postcode_from for c in CITIES])[city]
    hi = np.array([c.postcode_to for c in CITIES])[city]
    digits = rng.integers(lo, hi + 1)
    letters_pool = [
        a + b
        for a in "ABCDEFGHJKLMNPRSTVWXZ"
        for b in "ABCDEFGHJKLMNPRSTVWXZ"
        if a + b not in EXCLUDED_POSTCODE_LETTERS
    ]
    letters = np.array(letters_pool)[rng.integers(0, len(letters_pool), size=h)]
    postcode = np.strings.add(digits.astype("U4"), letters)
    number = rng.integers(1, 250, size=h).astype("U4")
    suffix = np.array(["", "", "", "", "", "", "", "", "A", "B", "-1", "-II"])[rng.integers(0, 12, size=h)]
    last = np.array([name for name, _ in LAST_NAMES])[_weighted(rng, [w for _, w in LAST_NAMES], h)]
    return household, Households(
        last_name=last,
        city=city,
        postcode=postcode,
        house_number=np.strings.add(number, suffix),
        landline=np.full(h, -1, dtype=np.int64),
        shared_email=np.full(h, -1, dtype=np.int64),
    )


def _names(rng: np.random.Generator, household: np.ndarray, hh: Households) -> tuple[np.ndarray, ...]:
    """First name, last name and declared gender of every person."""
    n = len(household)
    sex = np.where(rng.random(n) < 0.5, "M", "V")
    first = np.empty(n, dtype=object)
    for g in ("M", "V"):
        pool = [f for f in FIRST_NAMES if f.gender == g]
        mask = sex == g
        pick = _weighted(rng, [f.weight for f in pool], int(mask.sum()))
        first[mask] = np.array([f.name for f in pool], dtype=object)[pick]
    gender = sex.astype("U1")
    u = rng.random(n)
    gender[u < 0.05] = ""
    gender[u < 0.01] = "X"
    last = hh.last_name[household].astype(object)
    is_head = np.r_[True, household[1:] != household[:-1]]
    other = (~is_head) & (rng.random(n) < 0.35)
    last[other] = np.array([x for x, _ in LAST_NAMES], dtype=object)[
        _weighted(rng, [w for _, w in LAST_NAMES], int(other.sum()))
    ]
    return first.astype(str), last.astype(str), gender


def _email_local(first: str, last: str, pattern: int, year: int, keep_accents: bool) -> str:
    f = (first if keep_accents else ascii_fold(first)).lower().replace(" ", "")
    surname = ascii_fold(last).lower().replace(" ", "").replace("'", "")
    return (
        f"{f}.{surname}",
        f"{f}{surname}{year % 100:02d}",
        f"{f[0]}.{surname}",
        f"{f}_{surname}",
        f"{surname}.{f}",
    )[pattern]


def _emails(
    rng: np.random.Generator,
    first: np.ndarray,
    last: np.ndarray,
    birth_year: np.ndarray,
    hh: Households,
    household: np.ndarray,
) -> tuple[np.ndarray, Emails]:
    """Personal addresses (most persons) and shared household addresses (some households)."""
    n = len(first)
    owners = np.flatnonzero(rng.random(n) < SHARE_PERSONAL_EMAIL)
    pattern = rng.integers(0, 5, size=n)
    accented = np.array([f != ascii_fold(f) for f in first.tolist()])
    keep_accents = accented & (rng.random(n) < 0.3)
    domains = np.array([d for d, _ in EMAIL_DOMAINS])
    domain = domains[_weighted(rng, [w for _, w in EMAIL_DOMAINS], n)]
    candidates = [
        f"{_email_local(first[i], last[i], pattern[i], birth_year[i], keep_accents[i])}@{domain[i]}"
        for i in owners.tolist()
    ]
    sizes = np.bincount(household, minlength=len(hh.city))
    shared = np.flatnonzero((sizes >= 2) & (rng.random(len(sizes)) < SHARE_SHARED_EMAIL_HOUSEHOLD))
    shared_domain = domains[_weighted(rng, [w for _, w in EMAIL_DOMAINS], len(shared))]
    for k, (h, dom) in enumerate(zip(shared.tolist(), shared_domain.tolist(), strict=True)):
        surname = ascii_fold(hh.last_name[h]).lower().replace(" ", "").replace("'", "")
        candidates.append(f"fam.{surname}@{dom}" if k % 2 else f"{surname}.thuis@{dom}")
    address = np.array(_unique_strings(candidates, lambda c, k: c.replace("@", f"{k}@", 1)))
    esp_form = np.where(rng.random(len(address)) < 0.15, np.strings.capitalize(address), address)
    email_of = np.full(n, -1, dtype=np.int64)
    email_of[owners] = np.arange(len(owners))
    hh.shared_email[shared] = len(owners) + np.arange(len(shared))
    return email_of, Emails(
        address=address,
        esp_form=esp_form,
        owner=np.r_[owners, np.full(len(shared), -1)].astype(np.int64),
        household=np.r_[np.full(len(owners), -1), shared].astype(np.int64),
    )


def _phones(rng: np.random.Generator, n: int, hh: Households) -> tuple[np.ndarray, Phones]:
    """Mobiles (most persons) and landlines (some households), all distinct, none a placeholder."""
    has_mobile = np.flatnonzero(rng.random(n) < SHARE_MOBILE)
    k = len(has_mobile)
    reserved = frozenset(r[1:] for r in MOBILE_PLACEHOLDERS)
    mobiles = ["6" + s for s in _unique_numbers(rng, k + n // 20 + 50, 8, reserved)]
    with_landline = np.flatnonzero(rng.random(len(hh.city)) < SHARE_LANDLINE_HOUSEHOLD)
    areas = [CITIES[c].area_code for c in hh.city[with_landline].tolist()]
    subscribers = _unique_numbers(rng, len(with_landline), 7, frozenset())
    landlines = [a + s[len(a) - 2 :] for a, s in zip(areas, subscribers, strict=True)]
    landlines = _unique_strings(landlines, lambda c, j: c[:-2] + f"{j:02d}")
    mobile_of = np.full(n, -1, dtype=np.int64)
    mobile_of[has_mobile] = np.arange(k)
    hh.landline[with_landline] = k + np.arange(len(with_landline))
    phones = Phones(
        nsn=mobiles[:k] + landlines,
        owner=has_mobile.tolist() + [-1] * len(landlines),
        household=[-1] * k + with_landline.tolist(),
        spare=mobiles[k:],
        rng=rng.spawn(1)[0],  # a child stream: spawning leaves the population's own draws unchanged
    )
    return mobile_of, phones


def _social(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, mobile: np.ndarray, phones: Phones
) -> tuple[np.ndarray, np.ndarray]:
    """Platform and handle (as shown on the platform) of persons with a social account."""
    n = len(first)
    has = rng.random(n) < SHARE_SOCIAL
    platform = np.array(PLATFORMS)[_weighted(rng, [0.25, 0.30, 0.30, 0.15], n)]
    platform[(platform == "whatsapp") & (mobile < 0)] = "instagram"
    platform[~has] = ""
    number = rng.integers(1, 99, size=n)
    handles = []
    for i in np.flatnonzero(has).tolist():
        f, s = ascii_fold(first[i]), ascii_fold(last[i]).replace(" ", "")
        p = platform[i]
        if p == "x":
            handles.append(f"@{f}{s[0].upper()}{s[1:]}{number[i]}")
        elif p == "instagram":
            handles.append(f"{f.lower()}.{s.lower()}_{number[i]}")
        elif p == "facebook":
            handles.append(f"{f.lower()}.{s.lower()}.{number[i]}")
        else:
            handles.append("31" + phones.nsn[mobile[i]])
    handles = _unique_strings(handles, lambda c, k: f"{c}{k}")
    handle = np.full(n, "", dtype=object)
    handle[has] = handles
    return platform, handle.astype(str)


def _cookies(rng: np.random.Generator, n: int, has_account: np.ndarray) -> tuple[np.ndarray, ...]:
    """Browser cookies: 1-3 for most persons; cookie_start, cookie_count and the cookie table."""
    count = rng.choice(
        [0, 1, 2, 3], size=n, p=[1 - SHARE_WEB, SHARE_WEB * 0.55, SHARE_WEB * 0.3, SHARE_WEB * 0.15]
    )
    start = np.r_[0, np.cumsum(count)[:-1]]
    total = int(count.sum())
    person = np.repeat(np.arange(n), count)
    first = np.arange(total) == start[person]
    can_login = has_account[person] & (rng.random(total) < np.where(first, 0.85, 0.55))
    ids = uuids(rng, total)
    ua = rng.integers(0, len(USER_AGENTS), size=total)
    return start, count, Cookies(np.array(ids), person, can_login, ua)


def build_population(rng: np.random.Generator, n: int, days: int, start: date) -> Population:
    """Persons, households and identifiers for ``n`` customers over ``days`` business days."""
    household, hh = _households(rng, n)
    first, last, gender = _names(rng, household, hh)
    start_day = epoch_seconds(start) // 86_400
    age_years = rng.triangular(18, 38, 90, size=n)
    birth_day = (start_day - age_years * 365.25).astype(np.int64)
    birth_year = (1970 + birth_day / 365.25).astype(int)
    created = np.full(n, -1, dtype=np.int64)
    later = rng.random(n) >= SHARE_PRE_EXISTING
    if days > 1:
        created[later] = rng.integers(1, days, size=int(later.sum()))
    email_of, emails = _emails(rng, first, last, birth_year, hh, household)
    mobile_of, phones = _phones(rng, n, hh)
    esp_email = np.where(email_of >= 0, email_of, hh.shared_email[household])
    web_affinity = rng.lognormal(0, 0.7, size=n) * np.clip(1.6 - age_years / 60, 0.4, 1.5)
    has_account = (esp_email >= 0) & (rng.random(n) < SHARE_ACCOUNT * np.clip(web_affinity, 0.5, 1.5))
    account_ids = _unique_numbers(rng, int(has_account.sum()), 7, frozenset())
    account_id = np.full(n, "", dtype=object)
    account_id[has_account] = ["WS" + a for a in account_ids]
    style = rng.choice([0, 1, 2, 4], size=n, p=[0.6, 0.2, 0.05, 0.15])
    account_email = np.full(n, "", dtype=object)
    account_email[has_account] = messy_emails(
        emails.address[esp_email[has_account]].tolist(), style[has_account]
    )
    u = rng.random(n)
    loyalty_day = np.full(n, NEVER, dtype=np.int64)
    loyalty_day[u < SHARE_LOYALTY_BEFORE] = -1
    during = (u >= SHARE_LOYALTY_BEFORE) & (u < SHARE_LOYALTY_BEFORE + SHARE_LOYALTY_DURING)
    loyalty_day[during] = np.maximum(created[during], rng.integers(0, max(days, 1), size=int(during.sum())))
    loyalty_day[(loyalty_day == -1) & (created >= 0)] = created[(loyalty_day == -1) & (created >= 0)]
    has_card = loyalty_day != NEVER
    cards = _unique_numbers(rng, int(has_card.sum()), 9, frozenset())
    loyalty = np.full(n, "", dtype=object)
    loyalty[has_card] = ["2710" + c for c in cards]
    cookie_start, cookie_count, cookies = _cookies(rng, n, has_account)
    platform, handle = _social(rng, first, last, mobile_of, phones)
    p0 = np.exp(rng.normal(np.log(1 / 1100), 0.6, size=n))
    return Population(
        n=n,
        person_id=np.array([f"P{i:07d}" for i in range(1, n + 1)]),
        household=household,
        first_name=first,
        last_name=last,
        gender=gender,
        birth_day=birth_day,
        created_day=created,
        engagement=rng.lognormal(0, 0.5, size=n),
        store_affinity=rng.lognormal(0, 0.7, size=n),
        web_affinity=web_affinity,
        base_churn_logit=np.log(p0 / (1 - p0)),
        email=email_of,
        mobile=mobile_of,
        esp_email=esp_email,
        account_id=account_id.astype(str),
        account_email=account_email.astype(str),
        loyalty_card=loyalty.astype(str),
        loyalty_day=loyalty_day,
        cookie_start=cookie_start,
        cookie_count=cookie_count,
        social_platform=platform,
        social_handle=handle,
        households=hh,
        emails=emails,
        phones=phones,
        cookies=cookies,
    )
