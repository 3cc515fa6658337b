//! How values are said aloud in Russian: numbers, dates, clock times, waits and addresses in words.

use jiff::civil::{Date, DateTime, Time};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Masculine,
    Feminine,
    Neuter,
}

/// The cases the IVR's phrases need: «пять», «с пяти», «к пяти».
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Nominative,
    Genitive,
    Dative,
}

impl Case {
    fn index(self) -> usize {
        match self {
            Case::Nominative => 0,
            Case::Genitive => 1,
            Case::Dative => 2,
        }
    }
}

use Case::{Dative, Genitive, Nominative};
use Gender::{Feminine, Masculine, Neuter};

/// 0..=19 as [nominative, genitive, dative]; 1 and 2 are the masculine forms.
const UNITS: [[&str; 3]; 20] = [
    ["ноль", "нуля", "нулю"],
    ["один", "одного", "одному"],
    ["два", "двух", "двум"],
    ["три", "трёх", "трём"],
    ["четыре", "четырёх", "четырём"],
    ["пять", "пяти", "пяти"],
    ["шесть", "шести", "шести"],
    ["семь", "семи", "семи"],
    ["восемь", "восьми", "восьми"],
    ["девять", "девяти", "девяти"],
    ["десять", "десяти", "десяти"],
    ["одиннадцать", "одиннадцати", "одиннадцати"],
    ["двенадцать", "двенадцати", "двенадцати"],
    ["тринадцать", "тринадцати", "тринадцати"],
    ["четырнадцать", "четырнадцати", "четырнадцати"],
    ["пятнадцать", "пятнадцати", "пятнадцати"],
    ["шестнадцать", "шестнадцати", "шестнадцати"],
    ["семнадцать", "семнадцати", "семнадцати"],
    ["восемнадцать", "восемнадцати", "восемнадцати"],
    ["девятнадцать", "девятнадцати", "девятнадцати"],
];

const TENS: [[&str; 3]; 10] = [
    ["", "", ""],
    ["", "", ""],
    ["двадцать", "двадцати", "двадцати"],
    ["тридцать", "тридцати", "тридцати"],
    ["сорок", "сорока", "сорока"],
    ["пятьдесят", "пятидесяти", "пятидесяти"],
    ["шестьдесят", "шестидесяти", "шестидесяти"],
    ["семьдесят", "семидесяти", "семидесяти"],
    ["восемьдесят", "восьмидесяти", "восьмидесяти"],
    ["девяносто", "девяноста", "девяноста"],
];

const HUNDREDS: [[&str; 3]; 10] = [
    ["", "", ""],
    ["сто", "ста", "ста"],
    ["двести", "двухсот", "двумстам"],
    ["триста", "трёхсот", "трёмстам"],
    ["четыреста", "четырёхсот", "четырёмстам"],
    ["пятьсот", "пятисот", "пятистам"],
    ["шестьсот", "шестисот", "шестистам"],
    ["семьсот", "семисот", "семистам"],
    ["восемьсот", "восьмисот", "восьмистам"],
    ["девятьсот", "девятисот", "девятистам"],
];

/// A noun counted by a number: [nominative singular, genitive singular, genitive plural,
/// dative singular, dative plural].
type Noun = [&'static str; 5];
const HOUR: Noun = ["час", "часа", "часов", "часу", "часам"];
const MINUTE: Noun = ["минута", "минуты", "минут", "минуте", "минутам"];
/// Scales with their gender, largest first.
const SCALES: [(u32, Gender, Noun); 3] = [
    (1_000_000_000, Masculine, ["миллиард", "миллиарда", "миллиардов", "миллиарду", "миллиардам"]),
    (1_000_000, Masculine, ["миллион", "миллиона", "миллионов", "миллиону", "миллионам"]),
    (1_000, Feminine, ["тысяча", "тысячи", "тысяч", "тысяче", "тысячам"]),
];

/// The form of `noun` after the number `n` in `case`: «одна минута», «две минуты», «пять минут»,
/// «с одной минуты», «с пяти минут», «к пяти минутам».
fn noun_form(n: u32, case: Case, noun: &Noun) -> &'static str {
    let one = n % 10 == 1 && n % 100 != 11;
    let few = (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100));
    match case {
        Nominative if one => noun[0],
        Nominative if few => noun[1],
        Nominative => noun[2],
        Genitive if one => noun[1],
        Genitive => noun[2],
        Dative if one => noun[3],
        Dative => noun[4],
    }
}

fn unit(u: u32, gender: Gender, case: Case) -> &'static str {
    match (u, gender, case) {
        (1, Feminine, Nominative) => "одна",
        (1, Neuter, Nominative) => "одно",
        (1, Feminine, _) => "одной",
        (2, Feminine, Nominative) => "две",
        _ => UNITS[u as usize][case.index()],
    }
}

/// The words of 1..=999.
fn triad(n: u32, gender: Gender, case: Case, words: &mut Vec<&'static str>) {
    let (h, r) = (n / 100, n % 100);
    if h > 0 {
        words.push(HUNDREDS[h as usize][case.index()]);
    }
    if r >= 20 {
        words.push(TENS[(r / 10) as usize][case.index()]);
        if r % 10 > 0 {
            words.push(unit(r % 10, gender, case));
        }
    } else if r > 0 {
        words.push(unit(r, gender, case));
    }
}

/// A cardinal number in words: `cardinal(21, Feminine, Genitive)` is «двадцати одной».
pub fn cardinal(n: u32, gender: Gender, case: Case) -> String {
    if n == 0 {
        return UNITS[0][case.index()].to_string();
    }
    let mut words = Vec::new();
    let mut rest = n;
    for (scale, scale_gender, noun) in &SCALES {
        let count = rest / scale;
        rest %= scale;
        if count > 0 {
            // «тысяча», «миллион»: a lone one is not said.
            if count != 1 {
                triad(count, *scale_gender, case, &mut words);
            }
            words.push(noun_form(count, case, noun));
        }
    }
    triad(rest, gender, case, &mut words);
    words.join(" ")
}

/// A number followed by its noun: «двух минут», «девятнадцати часам».
fn counted(n: u32, gender: Gender, case: Case, noun: &Noun) -> String {
    format!("{} {}", cardinal(n, gender, case), noun_form(n, case, noun))
}

/// An ordinal's stem and whether its masculine nominative ends in a stressed «-ой» (второй)
/// rather than «-ый» (первый). «третий» is the one soft stem and is handled apart.
type OrdinalStem = (&'static str, bool);
const ORDINAL_UNITS: [OrdinalStem; 20] = [
    ("нулев", true),
    ("перв", false),
    ("втор", true),
    ("трет", false),
    ("четвёрт", false),
    ("пят", false),
    ("шест", true),
    ("седьм", true),
    ("восьм", true),
    ("девят", false),
    ("десят", false),
    ("одиннадцат", false),
    ("двенадцат", false),
    ("тринадцат", false),
    ("четырнадцат", false),
    ("пятнадцат", false),
    ("шестнадцат", false),
    ("семнадцат", false),
    ("восемнадцат", false),
    ("девятнадцат", false),
];
const ORDINAL_TENS: [OrdinalStem; 10] = [
    ("", false),
    ("", false),
    ("двадцат", false),
    ("тридцат", false),
    ("сороков", true),
    ("пятидесят", false),
    ("шестидесят", false),
    ("семидесят", false),
    ("восьмидесят", false),
    ("девяност", false),
];
const ORDINAL_HUNDREDS: [OrdinalStem; 10] = [
    ("", false),
    ("сот", false),
    ("двухсот", false),
    ("трёхсот", false),
    ("четырёхсот", false),
    ("пятисот", false),
    ("шестисот", false),
    ("семисот", false),
    ("восьмисот", false),
    ("девятисот", false),
];

fn ordinal_word((stem, stressed): (&str, bool), gender: Gender, case: Case) -> String {
    let ending = if stem == "трет" {
        match (gender, case) {
            (Masculine, Nominative) => "ий",
            (Feminine, Nominative) => "ья",
            (Neuter, Nominative) => "ье",
            (Feminine, _) => "ьей",
            (_, Genitive) => "ьего",
            (_, Dative) => "ьему",
        }
    } else {
        match (gender, case) {
            (Masculine, Nominative) if stressed => "ой",
            (Masculine, Nominative) => "ый",
            (Feminine, Nominative) => "ая",
            (Neuter, Nominative) => "ое",
            (Feminine, _) => "ой",
            (_, Genitive) => "ого",
            (_, Dative) => "ому",
        }
    };
    format!("{stem}{ending}")
}

/// An ordinal number in words; only its last word is an ordinal, as in Russian:
/// `ordinal(2026, Masculine, Genitive)` is «две тысячи двадцать шестого».
pub fn ordinal(n: u32, gender: Gender, case: Case) -> String {
    let last = n % 1000;
    if n == 0 || last != 0 {
        let (h, r) = (last / 100, last % 100);
        let mut words = Vec::new();
        if n >= 1000 {
            words.push(cardinal(n - last, Masculine, Nominative));
        }
        let stem = if n == 0 {
            ORDINAL_UNITS[0]
        } else if r == 0 {
            ORDINAL_HUNDREDS[h as usize]
        } else {
            if h > 0 {
                words.push(HUNDREDS[h as usize][0].to_string());
            }
            if r >= 20 && r % 10 == 0 {
                ORDINAL_TENS[(r / 10) as usize]
            } else if r >= 20 {
                words.push(TENS[(r / 10) as usize][0].to_string());
                ORDINAL_UNITS[(r % 10) as usize]
            } else {
                ORDINAL_UNITS[r as usize]
            }
        };
        words.push(ordinal_word(stem, gender, case));
        return words.join(" ");
    }
    // A round thousand, million or billion is one compound word: «двухтысячный», «стотысячный».
    let (scale, stem) = [(1_000_000_000, "миллиардн"), (1_000_000, "миллионн"), (1_000, "тысячн")]
        .into_iter()
        .find(|(scale, _)| n % scale == 0 && (n / scale) % 1000 != 0)
        .unwrap_or((1_000, "тысячн"));
    let count = (n / scale) % 1000;
    let above = n - count * scale;
    let prefix: String = match count {
        1 => String::new(),
        _ => cardinal(count, Feminine, Genitive)
            .split(' ')
            .map(|w| match w {
                "одной" => "одно",
                "ста" => "сто",
                "девяноста" => "девяносто",
                w => w,
            })
            .collect(),
    };
    let word = ordinal_word((&format!("{prefix}{stem}"), false), gender, case);
    if above > 0 { format!("{} {word}", cardinal(above, Masculine, Nominative)) } else { word }
}

const MONTHS_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];

/// «тридцатого ноября».
pub fn day_of_month(date: Date) -> String {
    format!("{} {}", ordinal(date.day() as u32, Neuter, Genitive), MONTHS_GENITIVE[date.month() as usize - 1])
}

/// «20 ноября 2026 г.»: a date as a page or a letter writes it.
pub fn written_date(date: Date) -> String {
    format!("{} {} {} г.", date.day(), MONTHS_GENITIVE[date.month() as usize - 1], date.year())
}

/// A day as said relative to `today`: «сегодня», «завтра», «вчера», else «тридцатого ноября»,
/// with the year («…две тысячи двадцать пятого года») when it is more than half a year away.
pub fn spoken_day(date: Date, today: Date) -> String {
    let days = today.until(date).map(|span| span.get_days()).unwrap_or(i32::MAX);
    match days {
        0 => "сегодня".into(),
        1 => "завтра".into(),
        -1 => "вчера".into(),
        d if d.abs() > 183 => {
            format!("{} {} года", day_of_month(date), ordinal(date.year().unsigned_abs() as u32, Masculine, Genitive))
        }
        _ => day_of_month(date),
    }
}

/// A clock time: whole hours with «час» («девяти часов», «к девятнадцати часам»), others as
/// hours and minutes («девяти тридцати», «девяти ноль пяти»), midnight as «полночь».
/// Only Genitive and Dative are declined; Nominative gives «девять тридцать».
pub fn clock(time: Time, case: Case) -> String {
    let (h, m) = (time.hour() as u32, time.minute() as u32);
    match (h, m) {
        (0, 0) => if case == Nominative { "полночь" } else { "полуночи" }.into(),
        (h, 0) => counted(h, Masculine, case, &HOUR),
        (h, m) if m < 10 => format!("{} ноль {}", cardinal(h, Masculine, case), cardinal(m, Feminine, case)),
        (h, m) => format!("{} {}", cardinal(h, Masculine, case), cardinal(m, Feminine, case)),
    }
}

/// A window of time: «сегодня, с девяти тридцати до тринадцати сорока пяти», «тридцатого
/// ноября, с девяти до семнадцати часов», «завтра, с двадцати двух часов до полуночи»; across
/// days «с двадцати двух часов второго декабря до шести часов третьего декабря».
pub fn time_window(start: DateTime, end: DateTime, today: Date) -> String {
    let midnight = Time::midnight();
    let ends_at_midnight_after = end.time() == midnight && start.date().tomorrow().ok() == Some(end.date());
    if start.date() == end.date() || ends_at_midnight_after {
        let whole = |t: Time| t.minute() == 0 && t != midnight;
        let from = if whole(start.time()) && whole(end.time()) {
            cardinal(start.hour() as u32, Masculine, Genitive)
        } else {
            clock(start.time(), Genitive)
        };
        format!("{}, с {from} до {}", spoken_day(start.date(), today), clock(end.time(), Genitive))
    } else {
        format!(
            "с {} {} до {} {}",
            clock(start.time(), Genitive),
            spoken_day(start.date(), today),
            clock(end.time(), Genitive),
            spoken_day(end.date(), today)
        )
    }
}

/// When something is to be done by: «сегодня к девятнадцати часам», «завтра к восьми тридцати»,
/// «тридцатого ноября к двадцати одному часу». Midnight belongs to the day it ends: «сегодня к
/// полуночи».
pub fn by_time(at: DateTime, today: Date) -> String {
    let day = if at.time() == Time::midnight() { at.date().yesterday().unwrap_or(at.date()) } else { at.date() };
    format!("{} к {}", spoken_day(day, today), clock(at.time(), Dative))
}

/// A wait or duration between `low` and `high` minutes: «меньше минуты», «около двух минут»,
/// «от одной до двух минут», «от сорока минут до двух часов», «от двух до трёх часов». Over an
/// hour and a half the upper end is said in hours, rounded up.
pub fn minutes_range(low: u32, high: u32) -> String {
    let (low, high) = (low.min(high), low.max(high));
    if high == 0 || (low == 0 && high == 1) {
        return "меньше минуты".into();
    }
    let minutes = |n: u32| if n == 1 { "минуты".to_string() } else { counted(n, Feminine, Genitive, &MINUTE) };
    let hours = |n: u32| if n == 1 { "часа".to_string() } else { counted(n, Masculine, Genitive, &HOUR) };
    if high <= 90 {
        return match low {
            0 => format!("до {}", counted(high, Feminine, Genitive, &MINUTE)),
            l if l == high => format!("около {}", minutes(l)),
            l => format!("от {} до {}", cardinal(l, Feminine, Genitive), counted(high, Feminine, Genitive, &MINUTE)),
        };
    }
    let high_h = high.div_ceil(60);
    match low {
        0 => format!("до {}", counted(high_h, Masculine, Genitive, &HOUR)),
        l if l < 60 => format!("от {} до {}", counted(l, Feminine, Genitive, &MINUTE), hours(high_h)),
        l if l / 60 == high_h => format!("около {}", hours(high_h)),
        l => format!("от {} до {}", cardinal(l / 60, Masculine, Genitive), counted(high_h, Masculine, Genitive, &HOUR)),
    }
}

/// A caller's place in the queue, as «номер» takes it: «третий» (never «нулевой»).
pub fn queue_position(position: u32) -> String {
    ordinal(position.max(1), Masculine, Nominative)
}

/// Abbreviations followed by a dot, and what is said for them.
const DOTTED: &[(&str, &str)] = &[
    ("ул", "улица"),
    ("пер", "переулок"),
    ("пр", "проспект"),
    ("просп", "проспект"),
    ("пл", "площадь"),
    ("ш", "шоссе"),
    ("наб", "набережная"),
    ("бул", "бульвар"),
    ("мкр", "микрорайон"),
    ("мкрн", "микрорайон"),
    ("кв", "квартира"),
    ("корп", "корпус"),
    ("стр", "строение"),
    ("вл", "владение"),
    ("дер", "деревня"),
    ("пос", "посёлок"),
    ("туп", "тупик"),
    ("обл", "область"),
    ("тер", "территория"),
];
/// Abbreviations written without a dot (one may follow and is dropped).
const BARE: &[(&str, &str)] = &[
    ("пр-т", "проспект"),
    ("пр-кт", "проспект"),
    ("пр-д", "проезд"),
    ("б-р", "бульвар"),
    ("мкр-н", "микрорайон"),
    ("р-н", "район"),
    ("пгт", "посёлок городского типа"),
];

/// Street and settlement abbreviations expanded and every number written in words, for text
/// such as a planned outage's streets: «ул. Ленина, д. 15» → «улица Ленина, дом пятнадцать»,
/// «д. 3/1» → «дом три дробь один», «2-й пер.» → «второй переулок», «ул. 8 Марта» → «улица
/// восьмого Марта», «дома 1–15» → «дома от одного до пятнадцати». Only whole words are
/// expanded; one-letter ones (д., с., п., г., ш.) only in lower case, so initials stay as they are.
pub fn expand_abbreviations(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            i = say_number(&chars, i, &mut out);
        } else if c == '№' {
            out.push_str("номер");
            i += 1;
            space_before_word(&chars, i, &mut out);
        } else if c.is_alphabetic() && (i == 0 || !chars[i - 1].is_alphabetic()) {
            let end = word_end(&chars, i);
            i = say_word(&chars, i, end, &mut out);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The end of the word at `start`: letters, and hyphens between letters («пр-т»).
fn word_end(chars: &[char], start: usize) -> usize {
    let letter = |i: usize| chars.get(i).is_some_and(|c| c.is_alphabetic());
    let mut end = start;
    while letter(end) || (chars.get(end) == Some(&'-') && letter(end + 1)) {
        end += 1;
    }
    end
}

/// Pushes a space when the next character would otherwise run into what was just said.
fn space_before_word(chars: &[char], i: usize, out: &mut String) {
    if chars.get(i).is_some_and(|c| c.is_alphanumeric()) {
        out.push(' ');
    }
}

fn with_capital(full: &str, like: char) -> String {
    let mut chars = full.chars();
    match chars.next() {
        Some(first) if like.is_uppercase() => first.to_uppercase().chain(chars).collect(),
        _ => full.to_string(),
    }
}

/// Says the word at `start..end`, expanded where it is an abbreviation; returns where to go on.
fn say_word(chars: &[char], start: usize, end: usize, out: &mut String) -> usize {
    let word: String = chars[start..end].iter().collect();
    let lower = word.to_lowercase();
    let dotted = chars.get(end) == Some(&'.');
    let next = if dotted { end + 1 } else { end };
    let following = chars[next..].iter().find(|c| !c.is_whitespace());
    let one_letter = end - start == 1;
    let full = match lower.as_str() {
        // One letter: lower case only, and by what follows: «д. 5» is a house, «д. Ивановка» a village.
        _ if one_letter && (!dotted || chars[start].is_uppercase()) => None,
        "д" if following.is_some_and(|c| c.is_ascii_digit()) => Some("дом"),
        "д" if following.is_some_and(|c| c.is_alphabetic()) => Some("деревня"),
        "с" | "п" | "г" if following.is_some_and(|c| c.is_alphabetic()) => Some(match lower.as_str() {
            "с" => "село",
            "п" => "посёлок",
            _ => "город",
        }),
        "ш" => Some("шоссе"),
        _ if one_letter => None,
        l if dotted => DOTTED.iter().chain(BARE.iter()).find(|(a, _)| *a == l).map(|(_, f)| *f),
        l => BARE.iter().find(|(a, _)| *a == l).map(|(_, f)| *f),
    };
    match full {
        Some(full) => {
            out.push_str(&with_capital(full, chars[start]));
            space_before_word(chars, next, out);
            next
        }
        None => {
            out.push_str(&word);
            end
        }
    }
}

fn digits_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while chars.get(end).is_some_and(|c| c.is_ascii_digit()) {
        end += 1;
    }
    end
}

/// The number written `chars[start..end]`, or `None` when it is not one to say as a number
/// (a leading zero, or too long): such runs are read digit by digit.
fn number_at(chars: &[char], start: usize, end: usize) -> Option<u32> {
    let digits: String = chars[start..end].iter().collect();
    if digits.len() > 9 || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    digits.parse().ok()
}

fn digit_by_digit(chars: &[char]) -> String {
    chars.iter().map(|c| UNITS[c.to_digit(10).unwrap_or(0) as usize][0]).collect::<Vec<_>>().join(" ")
}

/// The case a number takes after the last word said: «с пяти», «до пяти», «к пяти».
fn case_after(out: &str) -> Case {
    let last = out.trim_end().rsplit(|c: char| !c.is_alphabetic()).next().unwrap_or("").to_lowercase();
    match last.as_str() {
        "с" | "со" | "до" | "от" | "после" | "около" => Genitive,
        "к" | "ко" => Dative,
        _ => Nominative,
    }
}

/// Ordinal endings written after a hyphen: «1-й», «2-я», «3-е», «8-го», «5-му».
fn ordinal_suffix(suffix: &str) -> Option<(Gender, Case)> {
    Some(match suffix {
        "й" | "ый" | "ой" | "ий" => (Masculine, Nominative),
        "я" | "ая" | "яя" | "ья" => (Feminine, Nominative),
        "е" | "ое" | "ее" | "ье" => (Neuter, Nominative),
        "го" | "ого" | "его" => (Masculine, Genitive),
        "му" | "ому" | "ему" => (Masculine, Dative),
        _ => return None,
    })
}

/// Says the number starting at `start` with what belongs to it; returns where to go on.
fn say_number(chars: &[char], start: usize, out: &mut String) -> usize {
    if out.chars().last().is_some_and(|c| c.is_alphabetic()) {
        out.push(' ');
    }
    let end = digits_end(chars, start);
    let Some(n) = number_at(chars, start, end) else {
        out.push_str(&digit_by_digit(&chars[start..end]));
        space_before_word(chars, end, out);
        return end;
    };
    let at = |i: usize| chars.get(i).copied();
    // A clock time: «9:30».
    if at(end) == Some(':') && end - start <= 2 && digits_end(chars, end + 1) == end + 3 {
        let minute: String = chars[end + 1..end + 3].iter().collect();
        if let Ok(time) = Time::new(n as i8, minute.parse().unwrap_or(-1), 0, 0) {
            out.push_str(&clock(time, case_after(out)));
            space_before_word(chars, end + 3, out);
            return end + 3;
        }
    }
    // An ordinal: «2-й», «1-я».
    if at(end) == Some('-') && at(end + 1).is_some_and(|c| c.is_alphabetic()) {
        let suffix_end = word_end(chars, end + 1);
        let suffix: String = chars[end + 1..suffix_end].iter().collect();
        if let Some((gender, case)) = ordinal_suffix(&suffix.to_lowercase()) {
            out.push_str(&ordinal(n, gender, case));
            space_before_word(chars, suffix_end, out);
            return suffix_end;
        }
    }
    // A range: «1–15», «1 — 15», «15-17».
    let mut dash = end;
    if at(dash) == Some(' ') && matches!(at(dash + 1), Some('–' | '—')) && at(dash + 2) == Some(' ') {
        dash += 1;
    }
    if matches!(at(dash), Some('-' | '–' | '—')) {
        let second = if at(dash + 1) == Some(' ') && dash > end { dash + 2 } else { dash + 1 };
        let second_end = digits_end(chars, second);
        if let (true, Some(m)) = (second_end > second, number_at(chars, second, second_end)) {
            out.push_str(&format!("от {} до {}", cardinal(n, Masculine, Genitive), cardinal(m, Masculine, Genitive)));
            space_before_word(chars, second_end, out);
            return second_end;
        }
    }
    // House numbers: «3/1».
    let mut i = end;
    let mut said = cardinal(n, Masculine, case_after(out));
    while at(i) == Some('/') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        let next_end = digits_end(chars, i + 1);
        let part = match number_at(chars, i + 1, next_end) {
            Some(m) => cardinal(m, Masculine, Nominative),
            None => digit_by_digit(&chars[i + 1..next_end]),
        };
        said.push_str(&format!(" дробь {part}"));
        i = next_end;
    }
    if i == end {
        // A date or a year: «8 Марта», «1905 года», «1905 г.».
        let word_start = (end..chars.len()).find(|&j| !chars[j].is_whitespace()).unwrap_or(chars.len());
        let word: String = chars[word_start..word_end(chars, word_start).max(word_start)].iter().collect();
        let word = word.to_lowercase();
        let year = word_start > end && n >= 1000;
        if word_start > end && MONTHS_GENITIVE.contains(&word.as_str()) {
            said = ordinal(n, Neuter, Genitive);
        } else if year && word == "года" {
            said = ordinal(n, Masculine, Genitive);
        } else if year && word == "г" && at(word_start + 1) == Some('.') {
            out.push_str(&ordinal(n, Masculine, Genitive));
            out.push_str(" года");
            space_before_word(chars, word_start + 2, out);
            return word_start + 2;
        }
    }
    out.push_str(&said);
    space_before_word(chars, i, out);
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn list(words: &str) -> Vec<&str> {
        words.split('|').map(str::trim).collect()
    }

    const NOMINATIVE_0_100: &str = "ноль|один|два|три|четыре|пять|шесть|семь|восемь|девять|десять|\
        одиннадцать|двенадцать|тринадцать|четырнадцать|пятнадцать|шестнадцать|семнадцать|восемнадцать|девятнадцать|\
        двадцать|двадцать один|двадцать два|двадцать три|двадцать четыре|двадцать пять|двадцать шесть|двадцать семь|\
        двадцать восемь|двадцать девять|тридцать|тридцать один|тридцать два|тридцать три|тридцать четыре|\
        тридцать пять|тридцать шесть|тридцать семь|тридцать восемь|тридцать девять|сорок|сорок один|сорок два|\
        сорок три|сорок четыре|сорок пять|сорок шесть|сорок семь|сорок восемь|сорок девять|пятьдесят|\
        пятьдесят один|пятьдесят два|пятьдесят три|пятьдесят четыре|пятьдесят пять|пятьдесят шесть|\
        пятьдесят семь|пятьдесят восемь|пятьдесят девять|шестьдесят|шестьдесят один|шестьдесят два|\
        шестьдесят три|шестьдесят четыре|шестьдесят пять|шестьдесят шесть|шестьдесят семь|шестьдесят восемь|\
        шестьдесят девять|семьдесят|семьдесят один|семьдесят два|семьдесят три|семьдесят четыре|семьдесят пять|\
        семьдесят шесть|семьдесят семь|семьдесят восемь|семьдесят девять|восемьдесят|восемьдесят один|\
        восемьдесят два|восемьдесят три|восемьдесят четыре|восемьдесят пять|восемьдесят шесть|восемьдесят семь|\
        восемьдесят восемь|восемьдесят девять|девяносто|девяносто один|девяносто два|девяносто три|\
        девяносто четыре|девяносто пять|девяносто шесть|девяносто семь|девяносто восемь|девяносто девять|сто";

    const GENITIVE_0_100: &str = "нуля|одного|двух|трёх|четырёх|пяти|шести|семи|восьми|девяти|десяти|\
        одиннадцати|двенадцати|тринадцати|четырнадцати|пятнадцати|шестнадцати|семнадцати|восемнадцати|девятнадцати|\
        двадцати|двадцати одного|двадцати двух|двадцати трёх|двадцати четырёх|двадцати пяти|двадцати шести|\
        двадцати семи|двадцати восьми|двадцати девяти|тридцати|тридцати одного|тридцати двух|тридцати трёх|\
        тридцати четырёх|тридцати пяти|тридцати шести|тридцати семи|тридцати восьми|тридцати девяти|сорока|\
        сорока одного|сорока двух|сорока трёх|сорока четырёх|сорока пяти|сорока шести|сорока семи|сорока восьми|\
        сорока девяти|пятидесяти|пятидесяти одного|пятидесяти двух|пятидесяти трёх|пятидесяти четырёх|\
        пятидесяти пяти|пятидесяти шести|пятидесяти семи|пятидесяти восьми|пятидесяти девяти|шестидесяти|\
        шестидесяти одного|шестидесяти двух|шестидесяти трёх|шестидесяти четырёх|шестидесяти пяти|\
        шестидесяти шести|шестидесяти семи|шестидесяти восьми|шестидесяти девяти|семидесяти|семидесяти одного|\
        семидесяти двух|семидесяти трёх|семидесяти четырёх|семидесяти пяти|семидесяти шести|семидесяти семи|\
        семидесяти восьми|семидесяти девяти|восьмидесяти|восьмидесяти одного|восьмидесяти двух|\
        восьмидесяти трёх|восьмидесяти четырёх|восьмидесяти пяти|восьмидесяти шести|восьмидесяти семи|\
        восьмидесяти восьми|восьмидесяти девяти|девяноста|девяноста одного|девяноста двух|девяноста трёх|\
        девяноста четырёх|девяноста пяти|девяноста шести|девяноста семи|девяноста восьми|девяноста девяти|ста";

    const DATIVE_0_100: &str = "нулю|одному|двум|трём|четырём|пяти|шести|семи|восьми|девяти|десяти|\
        одиннадцати|двенадцати|тринадцати|четырнадцати|пятнадцати|шестнадцати|семнадцати|восемнадцати|девятнадцати|\
        двадцати|двадцати одному|двадцати двум|двадцати трём|двадцати четырём|двадцати пяти|двадцати шести|\
        двадцати семи|двадцати восьми|двадцати девяти|тридцати|тридцати одному|тридцати двум|тридцати трём|\
        тридцати четырём|тридцати пяти|тридцати шести|тридцати семи|тридцати восьми|тридцати девяти|сорока|\
        сорока одному|сорока двум|сорока трём|сорока четырём|сорока пяти|сорока шести|сорока семи|сорока восьми|\
        сорока девяти|пятидесяти|пятидесяти одному|пятидесяти двум|пятидесяти трём|пятидесяти четырём|\
        пятидесяти пяти|пятидесяти шести|пятидесяти семи|пятидесяти восьми|пятидесяти девяти|шестидесяти|\
        шестидесяти одному|шестидесяти двум|шестидесяти трём|шестидесяти четырём|шестидесяти пяти|\
        шестидесяти шести|шестидесяти семи|шестидесяти восьми|шестидесяти девяти|семидесяти|семидесяти одному|\
        семидесяти двум|семидесяти трём|семидесяти четырём|семидесяти пяти|семидесяти шести|семидесяти семи|\
        семидесяти восьми|семидесяти девяти|восьмидесяти|восьмидесяти одному|восьмидесяти двум|\
        восьмидесяти трём|восьмидесяти четырём|восьмидесяти пяти|восьмидесяти шести|восьмидесяти семи|\
        восьмидесяти восьми|восьмидесяти девяти|девяноста|девяноста одному|девяноста двум|девяноста трём|\
        девяноста четырём|девяноста пяти|девяноста шести|девяноста семи|девяноста восьми|девяноста девяти|ста";

    #[test]
    fn every_cardinal_to_a_hundred_in_every_case_and_gender() {
        for (case, expected) in [(Nominative, NOMINATIVE_0_100), (Genitive, GENITIVE_0_100), (Dative, DATIVE_0_100)] {
            let expected = list(expected);
            assert_eq!(expected.len(), 101);
            for (n, words) in expected.iter().enumerate() {
                let n = n as u32;
                assert_eq!(cardinal(n, Masculine, case), *words, "{n} {case:?}");
                // Feminine and neuter differ only in a last word «один»/«два» and its cases.
                let last_word = |forms: &[(&str, &str)]| {
                    let (head, last) = words.rsplit_once(' ').map_or(("", *words), |(h, l)| (h, l));
                    let last = forms.iter().find(|(m, _)| *m == last).map_or(last, |(_, f)| *f);
                    if head.is_empty() { last.to_string() } else { format!("{head} {last}") }
                };
                let feminine = last_word(&[("один", "одна"), ("два", "две"), ("одного", "одной"), ("одному", "одной")]);
                assert_eq!(cardinal(n, Feminine, case), feminine, "{n} {case:?} feminine");
                assert_eq!(cardinal(n, Neuter, case), last_word(&[("один", "одно")]), "{n} {case:?} neuter");
            }
        }
    }

    /// The feminine of a genitive: only a last «одного» changes.
    fn feminine_genitive(words: &str) -> String {
        match words.strip_suffix("одного") {
            Some(head) => format!("{head}одной"),
            None => words.to_string(),
        }
    }

    #[test]
    fn feminine_numbers_as_minutes_use_одна_and_две() {
        assert_eq!(cardinal(1, Feminine, Nominative), "одна");
        assert_eq!(cardinal(2, Feminine, Nominative), "две");
        assert_eq!(cardinal(22, Feminine, Nominative), "двадцать две");
        assert_eq!(cardinal(12, Feminine, Nominative), "двенадцать");
        assert_eq!(cardinal(41, Feminine, Genitive), "сорока одной");
        assert_eq!(cardinal(2, Feminine, Genitive), "двух");
        assert_eq!(cardinal(1, Neuter, Nominative), "одно");
    }

    #[test]
    fn large_cardinals() {
        assert_eq!(cardinal(125, Masculine, Nominative), "сто двадцать пять");
        assert_eq!(cardinal(300, Masculine, Dative), "трёмстам");
        assert_eq!(cardinal(1000, Masculine, Nominative), "тысяча");
        assert_eq!(cardinal(1905, Masculine, Nominative), "тысяча девятьсот пять");
        assert_eq!(cardinal(2026, Masculine, Nominative), "две тысячи двадцать шесть");
        assert_eq!(cardinal(5000, Masculine, Genitive), "пяти тысяч");
        assert_eq!(cardinal(21_000, Masculine, Genitive), "двадцати одной тысячи");
        assert_eq!(cardinal(2000, Masculine, Dative), "двум тысячам");
        assert_eq!(cardinal(1_000_000, Masculine, Nominative), "миллион");
        assert_eq!(cardinal(3_000_001, Feminine, Nominative), "три миллиона одна");
        assert_eq!(
            cardinal(u32::MAX, Masculine, Nominative),
            "четыре миллиарда двести девяносто четыре миллиона девятьсот шестьдесят семь тысяч \
             двести девяносто пять"
        );
    }

    const ORDINALS_1_31_GENITIVE: &str = "первого|второго|третьего|четвёртого|пятого|шестого|седьмого|восьмого|\
        девятого|десятого|одиннадцатого|двенадцатого|тринадцатого|четырнадцатого|пятнадцатого|шестнадцатого|\
        семнадцатого|восемнадцатого|девятнадцатого|двадцатого|двадцать первого|двадцать второго|двадцать третьего|\
        двадцать четвёртого|двадцать пятого|двадцать шестого|двадцать седьмого|двадцать восьмого|\
        двадцать девятого|тридцатого|тридцать первого";

    #[test]
    fn every_day_of_the_month_in_the_genitive() {
        for (day, words) in list(ORDINALS_1_31_GENITIVE).into_iter().enumerate() {
            assert_eq!(ordinal(day as u32 + 1, Neuter, Genitive), words);
            assert_eq!(ordinal(day as u32 + 1, Masculine, Genitive), words);
        }
        assert_eq!(day_of_month(date(2026, 11, 30)), "тридцатого ноября");
        assert_eq!(written_date(date(2026, 3, 1)), "1 марта 2026 г.");
        assert_eq!(day_of_month(date(2026, 1, 1)), "первого января");
        assert_eq!(day_of_month(date(2028, 2, 29)), "двадцать девятого февраля");
    }

    #[test]
    fn ordinals_in_every_gender_and_case() {
        let forms = |n| {
            [Masculine, Feminine, Neuter]
                .into_iter()
                .flat_map(|g| [Nominative, Genitive, Dative].into_iter().map(move |c| ordinal(n, g, c)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(forms(1), "первый первого первому первая первой первой первое первого первому");
        assert_eq!(forms(2), "второй второго второму вторая второй второй второе второго второму");
        assert_eq!(forms(3), "третий третьего третьему третья третьей третьей третье третьего третьему");
        assert_eq!(
            forms(40),
            "сороковой сорокового сороковому сороковая сороковой сороковой сороковое сорокового сороковому"
        );
        let nominative = "нулевой|первый|второй|третий|четвёртый|пятый|шестой|седьмой|восьмой|девятый|десятый";
        for (n, words) in list(nominative).into_iter().enumerate() {
            assert_eq!(ordinal(n as u32, Masculine, Nominative), words);
        }
        for (n, words) in [
            (20, "двадцатый"),
            (23, "двадцать третий"),
            (47, "сорок седьмой"),
            (50, "пятидесятый"),
            (68, "шестьдесят восьмой"),
            (70, "семидесятый"),
            (80, "восьмидесятый"),
            (90, "девяностый"),
            (99, "девяносто девятый"),
            (100, "сотый"),
            (101, "сто первый"),
            (110, "сто десятый"),
            (200, "двухсотый"),
            (340, "триста сороковой"),
            (1000, "тысячный"),
            (1905, "тысяча девятьсот пятый"),
            (2000, "двухтысячный"),
            (2026, "две тысячи двадцать шестой"),
            (5000, "пятитысячный"),
            (90_000, "девяностотысячный"),
            (100_000, "стотысячный"),
            (21_000, "двадцатиоднотысячный"),
            (1_000_000, "миллионный"),
            (3_000_000, "трёхмиллионный"),
            (1_002_000, "миллион двухтысячный"),
        ] {
            assert_eq!(ordinal(n, Masculine, Nominative), words, "{n}");
        }
        assert_eq!(ordinal(2026, Masculine, Genitive), "две тысячи двадцать шестого");
    }

    #[test]
    fn days_relative_to_today() {
        let today = date(2026, 11, 29);
        assert_eq!(spoken_day(today, today), "сегодня");
        assert_eq!(spoken_day(date(2026, 11, 30), today), "завтра");
        assert_eq!(spoken_day(date(2026, 11, 28), today), "вчера");
        assert_eq!(spoken_day(date(2026, 12, 1), today), "первого декабря");
        assert_eq!(spoken_day(date(2026, 11, 20), today), "двадцатого ноября");
        assert_eq!(spoken_day(date(2025, 3, 1), today), "первого марта две тысячи двадцать пятого года");
        assert_eq!(spoken_day(date(2027, 1, 1), date(2026, 12, 31)), "завтра");
    }

    const HOURS_GENITIVE: &str = "полуночи|одного часа|двух часов|трёх часов|четырёх часов|пяти часов|\
        шести часов|семи часов|восьми часов|девяти часов|десяти часов|одиннадцати часов|двенадцати часов|\
        тринадцати часов|четырнадцати часов|пятнадцати часов|шестнадцати часов|семнадцати часов|\
        восемнадцати часов|девятнадцати часов|двадцати часов|двадцати одного часа|двадцати двух часов|\
        двадцати трёх часов";
    const HOURS_DATIVE: &str = "полуночи|одному часу|двум часам|трём часам|четырём часам|пяти часам|\
        шести часам|семи часам|восьми часам|девяти часам|десяти часам|одиннадцати часам|двенадцати часам|\
        тринадцати часам|четырнадцати часам|пятнадцати часам|шестнадцати часам|семнадцати часам|\
        восемнадцати часам|девятнадцати часам|двадцати часам|двадцати одному часу|двадцати двум часам|\
        двадцати трём часам";

    #[test]
    fn every_whole_hour_and_every_minute() {
        for (case, hours) in [(Genitive, HOURS_GENITIVE), (Dative, HOURS_DATIVE)] {
            for (h, words) in list(hours).into_iter().enumerate() {
                assert_eq!(clock(Time::new(h as i8, 0, 0, 0).unwrap(), case), words);
            }
        }
        // Minutes are feminine (минута): «девяти двадцати одной», and 1..9 are «ноль …».
        let genitive = list(GENITIVE_0_100);
        for (m, words) in genitive.iter().enumerate().take(60).skip(1) {
            let t = Time::new(9, m as i8, 0, 0).unwrap();
            let minute = feminine_genitive(words);
            let expected =
                if m < 10 { format!("девяти ноль {minute}") } else { format!("девяти {minute}") };
            assert_eq!(clock(t, Genitive), expected);
        }
        assert_eq!(clock(Time::new(9, 30, 0, 0).unwrap(), Genitive), "девяти тридцати");
        assert_eq!(clock(Time::new(13, 45, 0, 0).unwrap(), Genitive), "тринадцати сорока пяти");
        assert_eq!(clock(Time::new(8, 30, 0, 0).unwrap(), Dative), "восьми тридцати");
        assert_eq!(clock(Time::new(21, 21, 0, 0).unwrap(), Dative), "двадцати одному двадцати одной");
        assert_eq!(clock(Time::new(0, 30, 0, 0).unwrap(), Genitive), "нуля тридцати");
        assert_eq!(clock(Time::new(9, 5, 0, 0).unwrap(), Nominative), "девять ноль пять");
        assert_eq!(clock(Time::new(2, 0, 0, 0).unwrap(), Nominative), "два часа");
        assert_eq!(clock(Time::midnight(), Nominative), "полночь");
    }

    fn at(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> DateTime {
        date(y, mo, d).at(h, mi, 0, 0)
    }

    #[test]
    fn windows_as_said() {
        let today = date(2026, 11, 28);
        let window = |a, b| time_window(a, b, today);
        assert_eq!(
            window(at(2026, 11, 30, 9, 30), at(2026, 11, 30, 13, 45)),
            "тридцатого ноября, с девяти тридцати до тринадцати сорока пяти"
        );
        assert_eq!(window(at(2026, 11, 28, 9, 0), at(2026, 11, 28, 17, 0)), "сегодня, с девяти до семнадцати часов");
        assert_eq!(window(at(2026, 11, 29, 9, 0), at(2026, 11, 29, 21, 0)), "завтра, с девяти до двадцати одного часа");
        assert_eq!(
            window(at(2026, 11, 28, 9, 30), at(2026, 11, 28, 13, 0)),
            "сегодня, с девяти тридцати до тринадцати часов"
        );
        assert_eq!(
            window(at(2026, 11, 28, 9, 0), at(2026, 11, 28, 13, 15)),
            "сегодня, с девяти часов до тринадцати пятнадцати"
        );
        assert_eq!(
            window(at(2026, 11, 28, 22, 0), at(2026, 11, 29, 0, 0)),
            "сегодня, с двадцати двух часов до полуночи"
        );
        assert_eq!(window(at(2026, 11, 28, 0, 0), at(2026, 11, 28, 6, 0)), "сегодня, с полуночи до шести часов");
        assert_eq!(
            window(at(2026, 12, 2, 22, 0), at(2026, 12, 3, 6, 0)),
            "с двадцати двух часов второго декабря до шести часов третьего декабря"
        );
        assert_eq!(
            window(at(2026, 11, 28, 22, 0), at(2026, 11, 29, 6, 30)),
            "с двадцати двух часов сегодня до шести тридцати завтра"
        );
    }

    #[test]
    fn by_a_time() {
        let today = date(2026, 11, 28);
        assert_eq!(by_time(at(2026, 11, 28, 19, 0), today), "сегодня к девятнадцати часам");
        assert_eq!(by_time(at(2026, 11, 29, 8, 30), today), "завтра к восьми тридцати");
        assert_eq!(by_time(at(2026, 11, 30, 21, 0), today), "тридцатого ноября к двадцати одному часу");
        assert_eq!(by_time(at(2026, 11, 29, 0, 0), today), "сегодня к полуночи");
        assert_eq!(by_time(at(2026, 11, 28, 1, 0), today), "сегодня к одному часу");
    }

    #[test]
    fn waits_in_minutes_and_hours() {
        assert_eq!(minutes_range(0, 0), "меньше минуты");
        assert_eq!(minutes_range(0, 1), "меньше минуты");
        assert_eq!(minutes_range(1, 1), "около минуты");
        assert_eq!(minutes_range(2, 2), "около двух минут");
        assert_eq!(minutes_range(21, 21), "около двадцати одной минуты");
        assert_eq!(minutes_range(1, 2), "от одной до двух минут");
        assert_eq!(minutes_range(2, 6), "от двух до шести минут");
        assert_eq!(minutes_range(6, 2), "от двух до шести минут");
        assert_eq!(minutes_range(10, 21), "от десяти до двадцати одной минуты");
        assert_eq!(minutes_range(0, 5), "до пяти минут");
        assert_eq!(minutes_range(45, 90), "от сорока пяти до девяноста минут");
        assert_eq!(minutes_range(40, 120), "от сорока минут до двух часов");
        assert_eq!(minutes_range(1, 91), "от одной минуты до двух часов");
        assert_eq!(minutes_range(120, 150), "от двух до трёх часов");
        assert_eq!(minutes_range(180, 180), "около трёх часов");
        assert_eq!(minutes_range(60, 150), "от одного до трёх часов");
        assert_eq!(minutes_range(0, 300), "до пяти часов");
    }

    #[test]
    fn a_range_never_says_the_same_number_twice() {
        for low in 0..=400 {
            for high in low..=400 {
                let said = minutes_range(low, high);
                if let Some((from, to)) = said.strip_prefix("от ").and_then(|r| r.split_once(" до ")) {
                    let to_number = to.rsplit_once(' ').map_or(to, |(number, _)| number);
                    assert!(from != to && from != to_number, "{low}..{high}: {said}");
                }
            }
        }
        assert_eq!(minutes_range(2, 2), "около двух минут");
    }

    #[test]
    fn queue_positions() {
        assert_eq!(queue_position(1), "первый");
        assert_eq!(queue_position(3), "третий");
        assert_eq!(queue_position(22), "двадцать второй");
        assert_eq!(queue_position(0), "первый");
    }

    #[test]
    fn addresses_are_expanded_and_numbers_said() {
        for (written, said) in [
            ("ул. Ленина, д. 15", "улица Ленина, дом пятнадцать"),
            ("д. 3/1", "дом три дробь один"),
            ("Ул.Мира, д.7, кв. 12", "Улица Мира, дом семь, квартира двенадцать"),
            ("пер. Садовый", "переулок Садовый"),
            ("Невский пр-т, 28", "Невский проспект, двадцать восемь"),
            ("Невский пр., 28", "Невский проспект, двадцать восемь"),
            ("2-й пер. Мира", "второй переулок Мира"),
            ("1-я Линия", "первая Линия"),
            ("ул. 8 Марта", "улица восьмого Марта"),
            ("ул. 50 лет Октября", "улица пятьдесят лет Октября"),
            ("ул. 1905 года", "улица тысяча девятьсот пятого года"),
            ("ул. Свободы, дома 1–15", "улица Свободы, дома от одного до пятнадцати"),
            ("д. 15а, корп. 2, стр. 1", "дом пятнадцать а, корпус два, строение один"),
            (
                "пл. Труда, наб. реки Мойки, Ленинградское ш.",
                "площадь Труда, набережная реки Мойки, Ленинградское шоссе",
            ),
            ("б-р Победы, мкр. Северный, мкр-н Южный", "бульвар Победы, микрорайон Северный, микрорайон Южный"),
            ("д. Ивановка, дер. Петровка, с. Покровское", "деревня Ивановка, деревня Петровка, село Покровское"),
            (
                "пос. Лесной, п. Озёрный, г. Углич, пгт Некрасовское",
                "посёлок Лесной, посёлок Озёрный, город Углич, посёлок городского типа Некрасовское",
            ),
            ("Углический р-н, Ярославская обл.", "Углический район, Ярославская область"),
            ("с 9:00 до 17:30", "с девяти часов до семнадцати тридцати"),
            ("к 19:00", "к девятнадцати часам"),
            ("в 9:05", "в девять ноль пять"),
            ("дома с 1 по 15", "дома с одного по пятнадцать"),
            ("участок № 5", "участок номер пять"),
            ("трасса М8", "трасса М восемь"),
            ("код 007", "код ноль ноль семь"),
            ("12345678901", "один два три четыре пять шесть семь восемь девять ноль один"),
        ] {
            assert_eq!(expand_abbreviations(written), said, "{written}");
        }
    }

    #[test]
    fn words_that_merely_start_like_abbreviations_are_left_alone() {
        for text in [
            "Улица Пушкина, переулок Кривой",
            "Иванов И. И., Петров Д. С.",
            "улучшение, пером, дом, площадка.",
            "Гаврилов-Ям, Ростов Великий",
            "плановый ремонт: замена опоры",
            "Садовая ул",
            "проспект Победы",
        ] {
            assert_eq!(expand_abbreviations(text), text);
        }
    }

    fn holds_no_digits(said: &str) -> bool {
        !said.chars().any(|c| c.is_ascii_digit() || c == ':')
    }

    #[test]
    fn nothing_said_about_times_holds_a_digit_or_a_colon() {
        let today = date(2026, 11, 28);
        for h in 0..24 {
            for m in 0..60 {
                let t = Time::new(h, m, 0, 0).unwrap();
                for case in [Nominative, Genitive, Dative] {
                    assert!(holds_no_digits(&clock(t, case)), "{t}");
                }
                for day in [27, 28, 29, 30] {
                    let said = by_time(date(2026, 11, day).to_datetime(t), today);
                    assert!(holds_no_digits(&said), "{said}");
                }
            }
        }
        let mut date_ = date(2025, 1, 1);
        while date_ < date(2029, 1, 1) {
            assert!(holds_no_digits(&spoken_day(date_, today)), "{date_}");
            date_ = date_.tomorrow().unwrap();
        }
        let start = at(2026, 11, 28, 0, 0);
        for from in (0..24 * 60).step_by(15) {
            let a = start.checked_add(jiff::Span::new().minutes(from)).unwrap();
            for length in (5..48 * 60).step_by(5) {
                let b = a.checked_add(jiff::Span::new().minutes(length)).unwrap();
                let said = time_window(a, b, today);
                assert!(holds_no_digits(&said), "{said}");
            }
        }
        for low in 0..=600 {
            for high in 0..=600 {
                assert!(holds_no_digits(&minutes_range(low, high)));
            }
        }
        for n in 0..=2000 {
            for g in [Masculine, Feminine, Neuter] {
                for c in [Nominative, Genitive, Dative] {
                    assert!(holds_no_digits(&cardinal(n, g, c)) && holds_no_digits(&ordinal(n, g, c)));
                }
            }
            assert!(holds_no_digits(&queue_position(n)));
        }
    }

    proptest::proptest! {
        #[test]
        fn expanded_text_never_holds_a_digit(text in "[0-9а-яА-Я .,:/№–-]{0,40}") {
            let said = expand_abbreviations(&text);
            proptest::prop_assert!(!said.chars().any(|c| c.is_ascii_digit()), "{text:?} → {said:?}");
        }
    }
}
