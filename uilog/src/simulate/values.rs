//! Values that differ per routine instance (invoice numbers, names, amounts, dates) and the pools
//! they are drawn from. The names are invented; any likeness to real people or firms is chance.

use jiff::civil::Date;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// What a value generator sees: the instance's random source, the values generated before it (in
/// the order the routine declares its slots) and the session's day.
pub(crate) struct Gen<'a> {
    pub rng: &'a mut ChaCha8Rng,
    pub prev: &'a [String],
    pub date: Date,
}

pub(crate) fn number(g: &mut Gen<'_>, lo: u32, hi: u32) -> String {
    g.rng.random_range(lo..=hi).to_string()
}

pub(crate) fn amount(g: &mut Gen<'_>) -> String {
    format!(
        "{}.{:02}",
        g.rng.random_range(12..=4_800u32),
        g.rng.random_range(0..100u32)
    )
}

fn pick(g: &mut Gen<'_>, pool: &[&str]) -> String {
    pool[g.rng.random_range(0..pool.len())].to_owned()
}

pub(crate) fn date_after(g: &mut Gen<'_>, min_days: i64, max_days: i64) -> String {
    let d = g.rng.random_range(min_days..=max_days);
    g.date
        .checked_add(jiff::Span::new().days(d))
        .unwrap_or(g.date)
        .to_string()
}

pub(crate) fn date_before(g: &mut Gen<'_>, min_days: i64, max_days: i64) -> String {
    let d = g.rng.random_range(min_days..=max_days);
    g.date
        .checked_sub(jiff::Span::new().days(d))
        .unwrap_or(g.date)
        .to_string()
}

const FIRST: &[&str] = &[
    "Anna", "Ben", "Carla", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemal",
    "Lena", "Marco", "Nora", "Oskar", "Paula", "Quentin", "Rosa", "Samir", "Tilda", "Umut", "Vera",
    "Wim", "Xenia", "Yusuf", "Zoe", "Malik", "Sofia", "Lars", "Amira", "Piotr", "Hana",
];

const LAST: &[&str] = &[
    "Albers",
    "Brandt",
    "Costa",
    "Dąbrowski",
    "Eriksen",
    "Fischer",
    "García",
    "Hoffmann",
    "Ivanova",
    "Jansen",
    "Kaya",
    "Lindqvist",
    "Moreau",
    "Nowak",
    "Okafor",
    "Petersen",
    "Quist",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ulrich",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zimmer",
    "Novák",
    "Haddad",
    "Berg",
    "Silva",
    "Kowalski",
    "Meyer",
    "Laine",
];

const COMPANIES: &[&str] = &[
    "Acme Office Supply",
    "Baltic Freight",
    "Cobalt Systems",
    "Delta Print",
    "Evergreen Catering",
    "Fjord Logistics",
    "Granite Facility",
    "Harbor Paper",
    "Iris Telecom",
    "Juniper Cleaning",
    "Kestrel IT",
    "Lumen Energy",
    "Meridian Tools",
    "Northwind Traders",
    "Orchid Labs",
    "Pioneer Parts",
    "Quarry Stone",
    "Riverbend Water",
    "Summit Security",
    "Tandem Couriers",
    "Umbra Lighting",
    "Vertex Software",
    "Willow Furniture",
    "Zenith Coffee",
];

const VENDORS: &[&str] = &[
    "Hotel Adler",
    "City Taxi",
    "Rail Europe",
    "Airport Parking",
    "Café Central",
    "Hotel Mercure",
    "Lufthansa",
    "Bistro Nord",
    "Uber",
    "Hotel Ibis",
    "Shell Station",
    "Trattoria Roma",
];

const ISSUES: &[&str] = &[
    "Cannot log in to VPN",
    "Printer on floor {n} jams",
    "Laptop does not boot",
    "Outlook keeps crashing",
    "Need access to share S{n}",
    "Monitor flickers",
    "Password reset for account {n}",
    "Phone extension {n} has no dial tone",
    "Docking station not detected",
    "Wi-Fi drops in room {n}",
    "Excel macro fails on open",
    "Request new keyboard",
    "Projector in room {n} shows no signal",
    "License expired for seat {n}",
];

const REGIONS: &[&str] = &["north", "south", "east", "west", "central", "export"];

const DEPARTMENTS: &[&str] = &[
    "Finance",
    "Sales",
    "Logistics",
    "IT",
    "Human Resources",
    "Purchasing",
    "Support",
];

const SERVERS: &[&str] = &["db", "web", "app", "files", "mail", "build"];

pub(crate) fn first_name(g: &mut Gen<'_>) -> String {
    pick(g, FIRST)
}

pub(crate) fn last_name(g: &mut Gen<'_>) -> String {
    pick(g, LAST)
}

pub(crate) fn full_name(g: &mut Gen<'_>) -> String {
    format!("{} {}", pick(g, FIRST), pick(g, LAST))
}

pub(crate) fn company(g: &mut Gen<'_>) -> String {
    pick(g, COMPANIES)
}

pub(crate) fn vendor(g: &mut Gen<'_>) -> String {
    pick(g, VENDORS)
}

pub(crate) fn region(g: &mut Gen<'_>) -> String {
    pick(g, REGIONS)
}

pub(crate) fn department(g: &mut Gen<'_>) -> String {
    pick(g, DEPARTMENTS)
}

pub(crate) fn server(g: &mut Gen<'_>) -> String {
    format!("{}{:02}", pick(g, SERVERS), g.rng.random_range(1..=12u32))
}

/// An issue summary; most carry a number so that two tickets rarely read the same.
pub(crate) fn issue(g: &mut Gen<'_>) -> String {
    let text = pick(g, ISSUES);
    let tag = g.rng.random_range(100..=999u32);
    if text.contains("{n}") {
        text.replace("{n}", &(tag % 40 + 1).to_string())
            + &format!(" (asset A-{})", g.rng.random_range(10_000..=99_999u32))
    } else {
        format!("{text} (asset A-{}{tag})", g.rng.random_range(10..=99u32))
    }
}

/// An address that belongs to no real person: `first.last@` one of a few invented domains.
pub(crate) fn email(g: &mut Gen<'_>) -> String {
    let first = pick(g, FIRST);
    let last = pick(g, LAST);
    email_of(&first, &last)
}

pub(crate) fn email_of(first: &str, last: &str) -> String {
    let ascii = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'ą' => 'a',
                'á' | 'à' => 'a',
                'é' => 'e',
                'í' => 'i',
                'ó' | 'ö' => 'o',
                'ú' | 'ü' => 'u',
                c => c,
            })
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    format!("{}.{}@example.com", ascii(first), ascii(last))
}

pub(crate) fn phone(g: &mut Gen<'_>) -> String {
    format!(
        "+49 {} {}",
        g.rng.random_range(30..=89u32),
        g.rng.random_range(1_000_000..=9_999_999u32)
    )
}

const STREETS: &[&str] = &[
    "Lindenstraße",
    "Hafenweg",
    "Rue des Fleurs",
    "Via Roma",
    "Kungsgatan",
    "Market Street",
    "Bergstraße",
    "Kanalkade",
];

pub(crate) fn street(g: &mut Gen<'_>) -> String {
    format!("{} {}", pick(g, STREETS), g.rng.random_range(1..=180u32))
}

/// (city, country) pairs, so that a record's city and country agree.
const CITIES: &[(&str, &str)] = &[
    ("Hamburg", "Germany"),
    ("Lyon", "France"),
    ("Turin", "Italy"),
    ("Gothenburg", "Sweden"),
    ("Utrecht", "Netherlands"),
    ("Graz", "Austria"),
    ("Porto", "Portugal"),
    ("Brno", "Czechia"),
];

pub(crate) fn city(g: &mut Gen<'_>) -> String {
    CITIES[g.rng.random_range(0..CITIES.len())].0.to_owned()
}

/// The country of the city generated just before.
pub(crate) fn country_of_city(g: &mut Gen<'_>) -> String {
    let city = g.prev.last().map(String::as_str).unwrap_or("");
    CITIES
        .iter()
        .find(|(c, _)| *c == city)
        .map_or("Germany", |(_, country)| country)
        .to_owned()
}

pub(crate) fn postcode(g: &mut Gen<'_>) -> String {
    format!("{:05}", g.rng.random_range(1_000..=99_999u32))
}

/// The line `df -h /var` prints for the volume.
pub(crate) fn df_line(g: &mut Gen<'_>) -> String {
    let size = [20u32, 40, 50, 100, 200, 500][g.rng.random_range(0..6)];
    let used = g.rng.random_range(size * 2 / 5..size);
    let dev = ["sda3", "vda1", "nvme0n1p2", "dm-0"][g.rng.random_range(0..4)];
    format!(
        "/dev/{dev} {size}G {used}G {}G {}% /var",
        size - used,
        used * 100 / size
    )
}

/// The last line of a backup log: the night before the session's day, with varying counts.
pub(crate) fn backup_line(g: &mut Gen<'_>) -> String {
    format!(
        "{} 02:{:02}:{:02} backup ok: {} files, {}.{} GB",
        g.date,
        g.rng.random_range(0..60u32),
        g.rng.random_range(0..60u32),
        g.rng.random_range(800..=40_000u32),
        g.rng.random_range(1..=90u32),
        g.rng.random_range(0..10u32),
    )
}

/// An unrelated place a user drops into between and during tasks, and what they may touch there.
pub(crate) struct NoisePlace {
    pub app: super::model::App,
    pub window: &'static str,
    /// (role, name, id) of the elements a detour clicks; a `textbox` is typed into instead.
    pub elements: &'static [(&'static str, &'static str, &'static str)],
}

const fn place(
    app: super::model::App,
    window: &'static str,
    elements: &'static [(&'static str, &'static str, &'static str)],
) -> NoisePlace {
    NoisePlace {
        app,
        window,
        elements,
    }
}

/// Detours go to many places and do different things there, so that noise does not form a pattern
/// frequent enough to pass for a routine.
pub(crate) const NOISE_PLACES: &[NoisePlace] = {
    use super::model::App::*;
    const CHANNELS: &[(&str, &str, &str)] = &[
        ("listitem", "Town Square", "sidebar-channel"),
        ("listitem", "Team Lunch", "sidebar-channel"),
        ("listitem", "Off-Topic", "sidebar-channel"),
        ("button", "Reply", "reply-button"),
        ("button", "Add reaction", "emoji-button"),
        ("textbox", "Write a message", "post-textbox"),
    ];
    const FILES: &[(&str, &str, &str)] = &[
        ("listitem", "Downloads", "places"),
        ("listitem", "Documents", "places"),
        ("listitem", "Home", "places"),
        ("button", "Search", "search"),
        ("button", "View options", "view-menu"),
    ];
    const KEYS: &[(&str, &str, &str)] = &[
        ("button", "7", "digit-7"),
        ("button", "+", "add"),
        ("button", "×", "multiply"),
        ("button", "=", "equals"),
        ("button", "C", "clear"),
    ];
    const PAGE: &[(&str, &str, &str)] = &[
        ("A", "Next", "nav-next"),
        ("A", "Home", "nav-home"),
        ("BUTTON", "Close", "close"),
        ("IMG", "", "banner"),
    ];
    const MAIL: &[(&str, &str, &str)] = &[
        ("treeitem", "Newsletter: November offers", "threadTree"),
        ("treeitem", "Re: Friday lunch", "threadTree"),
        ("treeitem", "Your parcel is on its way", "threadTree"),
        ("button", "Get Messages", "button-getmsg"),
        ("button", "Junk", "button-junk"),
    ];
    &[
        place(Chat, "Town Square - Mattermost", CHANNELS),
        place(Chat, "Team Lunch - Mattermost", CHANNELS),
        place(Chat, "Off-Topic - Mattermost", CHANNELS),
        place(Files, "Downloads - Files", FILES),
        place(Files, "Documents - Files", FILES),
        place(Files, "Home - Files", FILES),
        place(Calculator, "Calculator", KEYS),
        place(Browser, "Weather forecast — Mozilla Firefox", PAGE),
        place(Browser, "Intranet — Mozilla Firefox", PAGE),
        place(Browser, "Canteen menu - Intranet — Mozilla Firefox", PAGE),
        place(Browser, "News — Mozilla Firefox", PAGE),
        place(Browser, "Train timetable — Mozilla Firefox", PAGE),
        place(Mail, "Inbox - Mozilla Thunderbird", MAIL),
    ]
};

/// Short chat messages typed during a detour.
pub(crate) const CHAT: &[&str] = &[
    "ok",
    "on my way",
    "thanks!",
    "in a call, later",
    "yes",
    "lunch at 12?",
    "👍",
    "sure",
    "5 min",
    "can you send it again?",
    "done",
    "who has the key to room 3?",
];

/// Shortcuts pressed by habit or by mistake.
pub(crate) const STRAY_KEYS: &[&str] = &["ctrl+z", "ctrl+a", "escape", "ctrl+f", "f5", "ctrl+tab"];
