//! How values are said aloud: numbers digit by digit, prompts with their variables filled in.

use std::collections::BTreeMap;

/// "100234" → "1 0 0 2 3 4": a ticket or application number is read one digit at a time so the
/// caller can write it down (and the synthesiser never says "сто тысяч двести тридцать четыре").
pub fn digits_aloud(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() * 2);
    for (i, c) in digits.chars().filter(|c| !c.is_whitespace()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Variables whose values are numbers to be read digit by digit.
pub fn is_spelled_out(var: &str) -> bool {
    var.ends_with("_number") || var == "postcode"
}

/// The `{name}` placeholders of a prompt, or why the text is not a valid template.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| "a '{' is never closed".to_string())?;
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(format!("'{{{name}}}' is not a variable name (lower-case letters, digits, _)"));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("a '}' has no matching '{'".into());
    }
    Ok(names)
}

/// Fills a validated template; a variable with no value yet is left out rather than read as a
/// placeholder to the caller.
pub fn fill(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if let Some(value) = vars.get(name) {
            if is_spelled_out(name) {
                out.push_str(&digits_aloud(value));
            } else {
                out.push_str(value);
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_digit_by_digit_and_names_as_they_are() {
        let vars = BTreeMap::from([
            ("ticket_number".to_string(), "100234".to_string()),
            ("settlement".to_string(), "Углич".to_string()),
        ]);
        assert_eq!(fill("Заявка {ticket_number}, {settlement}.", &vars), "Заявка 1 0 0 2 3 4, Углич.");
        assert_eq!(fill("Нет {missing}значения", &vars), "Нет значения");
    }

    #[test]
    fn placeholders_are_checked() {
        assert_eq!(placeholders("a {x} b {y_2}").unwrap(), vec!["x", "y_2"]);
        assert!(placeholders("a {x b").is_err());
        assert!(placeholders("a {Икс}").is_err());
        assert!(placeholders("a } b").is_err());
    }
}
