//! The internet reception's texts as data: TOML files in `ivr-scripts/reception/` that staff
//! edit without a rebuild, checked like the IVR scripts (unknown keys refused, every section
//! present, links http(s)); the files shipped with the source are built in as the default.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The subfolder of the scripts folder that holds the reception's texts; the IVR loader reads
/// only the `.toml` files at the top of the scripts folder, so it never sees these.
pub const SUBFOLDER: &str = "reception";

/// Every file the reception needs, with its built-in text.
const BUILT_IN: &[(&str, &str)] = &[
    ("faq.toml", include_str!("../../ivr-scripts/reception/faq.toml")),
    ("offices.toml", include_str!("../../ivr-scripts/reception/offices.toml")),
    ("hazard.toml", include_str!("../../ivr-scripts/reception/hazard.toml")),
    ("theft.toml", include_str!("../../ivr-scripts/reception/theft.toml")),
    ("connection.toml", include_str!("../../ivr-scripts/reception/connection.toml")),
    ("territory.toml", include_str!("../../ivr-scripts/reception/territory.toml")),
    ("regulations.toml", include_str!("../../ivr-scripts/reception/regulations.toml")),
    ("samples.toml", include_str!("../../ivr-scripts/reception/samples.toml")),
];

/// A question people ask, with its answer.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    pub question: String,
    pub answer: String,
}

/// A customer-service centre (ЦОК).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Office {
    pub name: String,
    pub address: String,
    pub phones: Vec<String>,
    /// Opening hours, one line per group of days.
    pub hours: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A page section of prose: a lead, headed parts with paragraphs and lists, links.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub title: String,
    pub lead: String,
    #[serde(default, rename = "part")]
    pub parts: Vec<Part>,
    #[serde(default, rename = "link")]
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub heading: String,
    #[serde(default)]
    pub paragraphs: Vec<String>,
    #[serde(default)]
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub title: String,
    pub url: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// A sample application a visitor prints or downloads and fills in by hand: who it is addressed
/// to, what is asked, a numbered point per thing to fill in, the attachments, the signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Its address (`/reception/connection/samples/{slug}`) and the downloaded file's name.
    pub slug: String,
    pub title: String,
    /// One sentence on when to use it, for the list on the connection page.
    pub summary: String,
    /// The addressee's lines, top right as on a paper form.
    pub to: Vec<String>,
    /// The rule it is made under, printed under the title.
    pub basis: String,
    pub request: String,
    #[serde(rename = "field")]
    pub fields: Vec<SampleField>,
    pub attachments: Vec<String>,
    /// The labels under the blank lines at the foot (signature, name, date).
    pub signature: Vec<String>,
    /// How to fill it in and where to take it; on the page, not a part of the form.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One point of a sample: blank lines to fill, a printed answer, or choices to tick.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleField {
    pub label: String,
    #[serde(default)]
    pub hint: Option<String>,
    /// Blank lines left for the answer.
    #[serde(default)]
    pub lines: Option<u8>,
    /// An answer printed on the form, the same for everyone who uses it.
    #[serde(default)]
    pub filled: Option<String>,
    #[serde(default)]
    pub choices: Vec<String>,
}

/// The most blank lines one point may leave: a form, not a notebook.
const MAX_BLANK_LINES: u8 = 6;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SamplesFile {
    lead: String,
    #[serde(rename = "sample")]
    samples: Vec<Sample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaqFile {
    #[serde(rename = "item")]
    items: Vec<Faq>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficesFile {
    #[serde(rename = "office")]
    offices: Vec<Office>,
}

/// Everything the reception's pages say that is not about one visitor.
#[derive(Debug, Clone)]
pub struct Content {
    pub faq: Vec<Faq>,
    pub offices: Vec<Office>,
    pub hazard: Article,
    pub theft: Article,
    pub connection: Article,
    pub territory: Article,
    pub regulations: Article,
    /// What the list of samples says first: which forms are not here and where to get them.
    pub samples_lead: String,
    pub samples: Vec<Sample>,
}

impl Content {
    /// The texts `serve` shows: `{scripts}/reception/` when the scripts folder (HOTLINE_SCRIPTS_DIR,
    /// else `./ivr-scripts`) has one, else the built-in texts; any problem stops the start.
    pub fn load(scripts_dir: Option<&Path>) -> anyhow::Result<(Self, String)> {
        let dir = scripts_dir.unwrap_or(Path::new("ivr-scripts")).join(SUBFOLDER);
        if dir.is_dir() {
            let content = Self::load_dir(&dir).map_err(|problems| {
                anyhow::anyhow!("the reception texts in {} have problems:\n{}", dir.display(), problems.join("\n"))
            })?;
            return Ok((content, dir.display().to_string()));
        }
        Ok((Self::built_in(), "built-in reception texts".to_string()))
    }

    pub fn built_in() -> Self {
        let sources = BUILT_IN.iter().map(|(name, text)| (name.to_string(), Some(text.to_string())));
        Self::parse(sources).expect("the built-in reception texts are checked by a test")
    }

    /// Reads and checks every file of `dir`; the problems as `file: reason` lines.
    pub fn load_dir(dir: &Path) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".toml") && !BUILT_IN.iter().any(|(known, _)| *known == name) {
                    problems.push(format!("{name}: not a reception file (expected one of {})", file_names()));
                }
            }
        }
        let sources = BUILT_IN.iter().map(|(name, _)| {
            let path = dir.join(name);
            (name.to_string(), std::fs::read_to_string(path).ok())
        });
        match Self::parse(sources) {
            Ok(content) if problems.is_empty() => Ok(content),
            Ok(_) => Err(problems),
            Err(more) => Err(problems.into_iter().chain(more).collect()),
        }
    }

    /// Each file by name, `None` where it is missing.
    fn parse(sources: impl Iterator<Item = (String, Option<String>)>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let texts: Vec<(String, String)> = sources
            .filter_map(|(name, text)| match text {
                Some(text) => Some((name, text)),
                None => {
                    problems.push(format!("{name}: missing (every reception section needs its file)"));
                    None
                }
            })
            .collect();
        let text_of = |name: &str| texts.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str());
        fn read<T: for<'de> Deserialize<'de>>(name: &str, text: Option<&str>, problems: &mut Vec<String>) -> Option<T> {
            toml::from_str(text?).map_err(|e| problems.push(format!("{name}: {}", e.message()))).ok()
        }
        let faq: Option<FaqFile> = read("faq.toml", text_of("faq.toml"), &mut problems);
        let offices: Option<OfficesFile> = read("offices.toml", text_of("offices.toml"), &mut problems);
        let mut article = |name: &str| -> Option<Article> { read(name, text_of(name), &mut problems) };
        let (hazard, theft, connection, territory, regulations) = (
            article("hazard.toml"),
            article("theft.toml"),
            article("connection.toml"),
            article("territory.toml"),
            article("regulations.toml"),
        );
        let samples: Option<SamplesFile> = read("samples.toml", text_of("samples.toml"), &mut problems);
        let (
            Some(faq),
            Some(offices),
            Some(hazard),
            Some(theft),
            Some(connection),
            Some(territory),
            Some(regulations),
            Some(samples),
        ) = (faq, offices, hazard, theft, connection, territory, regulations, samples)
        else {
            return Err(problems);
        };
        let content = Self {
            faq: faq.items,
            offices: offices.offices,
            hazard,
            theft,
            connection,
            territory,
            regulations,
            samples_lead: samples.lead,
            samples: samples.samples,
        };
        problems.extend(content.problems());
        if problems.is_empty() { Ok(content) } else { Err(problems) }
    }

    /// What parses but would make a poor or unsafe page: empty sections, empty texts, links
    /// that are not http(s).
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.faq.is_empty() {
            problems.push("faq.toml: at least one [[item]] is needed".to_string());
        }
        for (i, faq) in self.faq.iter().enumerate() {
            if faq.question.trim().is_empty() || faq.answer.trim().is_empty() {
                problems.push(format!("faq.toml: item {}: the question and the answer must not be empty", i + 1));
            }
        }
        if self.offices.is_empty() {
            problems.push("offices.toml: at least one [[office]] is needed".to_string());
        }
        for office in &self.offices {
            if office.name.trim().is_empty() || office.address.trim().is_empty() || office.hours.is_empty() {
                problems.push(format!("offices.toml: office '{}': name, address and hours are needed", office.name));
            }
        }
        for (name, article) in self.articles() {
            if article.title.trim().is_empty() || article.lead.trim().is_empty() {
                problems.push(format!("{name}: the title and the lead must not be empty"));
            }
            for part in &article.parts {
                if part.heading.trim().is_empty() || (part.paragraphs.is_empty() && part.items.is_empty()) {
                    problems.push(format!("{name}: part '{}': a heading and some text are needed", part.heading));
                }
            }
            for link in &article.links {
                if !(link.url.starts_with("https://") || link.url.starts_with("http://")) {
                    problems.push(format!(
                        "{name}: link '{}': the address must start with http:// or https://",
                        link.title
                    ));
                }
            }
        }
        problems.extend(self.sample_problems());
        problems
    }

    /// A sample's slug goes into an address and a file name, so it is kept to a few safe
    /// characters; a point is exactly one of blank lines, a printed answer or choices.
    fn sample_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.samples.is_empty() || self.samples_lead.trim().is_empty() {
            problems.push("samples.toml: a lead and at least one [[sample]] are needed".to_string());
        }
        let mut slugs = std::collections::HashSet::new();
        for sample in &self.samples {
            let slug = &sample.slug;
            let safe = slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if slug.is_empty() || slug.len() > 60 || !safe {
                problems.push(format!(
                    "samples.toml: sample '{slug}': the slug must be 1 to 60 lower-case Latin letters, digits and hyphens"
                ));
            } else if !slugs.insert(slug.as_str()) {
                problems.push(format!("samples.toml: sample '{slug}' appears twice"));
            }
            let texts = [&sample.title, &sample.summary, &sample.basis, &sample.request];
            if texts.iter().any(|t| t.trim().is_empty()) || sample.to.is_empty() {
                problems
                    .push(format!("samples.toml: sample '{slug}': to, title, summary, basis and request are needed"));
            }
            if sample.fields.is_empty() || sample.signature.is_empty() {
                problems.push(format!(
                    "samples.toml: sample '{slug}': at least one [[sample.field]] and a signature are needed"
                ));
            }
            for field in &sample.fields {
                let kinds = [field.lines.is_some(), field.filled.is_some(), !field.choices.is_empty()];
                if field.label.trim().is_empty() || kinds.iter().filter(|k| **k).count() != 1 {
                    problems.push(format!(
                        "samples.toml: sample '{slug}', field '{}': a label and exactly one of lines, filled or choices are needed",
                        field.label
                    ));
                }
                if field.lines.is_some_and(|n| n == 0 || n > MAX_BLANK_LINES) {
                    problems.push(format!(
                        "samples.toml: sample '{slug}', field '{}': lines must be 1 to {MAX_BLANK_LINES}",
                        field.label
                    ));
                }
            }
        }
        problems
    }

    /// The sample with this slug.
    pub fn sample(&self, slug: &str) -> Option<&Sample> {
        self.samples.iter().find(|s| s.slug == slug)
    }

    fn articles(&self) -> [(&'static str, &Article); 5] {
        [
            ("hazard.toml", &self.hazard),
            ("theft.toml", &self.theft),
            ("connection.toml", &self.connection),
            ("territory.toml", &self.territory),
            ("regulations.toml", &self.regulations),
        ]
    }
}

fn file_names() -> String {
    BUILT_IN.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, text: &str) -> Result<Content, Vec<String>> {
        let sources = BUILT_IN.iter().map(|(n, t)| {
            let text = if *n == name { text } else { t };
            (n.to_string(), Some(text.to_string()))
        });
        Content::parse(sources)
    }

    #[test]
    fn the_built_in_texts_pass_their_own_checks() {
        let content = Content::built_in();
        assert!(content.faq.len() >= 5);
        assert!(content.offices.len() >= 3);
        assert!(content.regulations.links.iter().any(|l| l.title.contains("861")));
        let private = content.sample("zayavka-do-15-kvt").expect("the application up to 15 kW");
        let labels: Vec<&str> = private.fields.iter().map(|f| f.label.as_str()).collect();
        for needed in ["Фамилия, имя, отчество", "Паспортные данные", "Кадастровый номер", "Максимальная мощность"]
        {
            assert!(labels.iter().any(|l| l.starts_with(needed)), "{needed} in {labels:?}");
        }
        assert!(content.samples.len() >= 2);
    }

    #[test]
    fn a_sample_with_an_unsafe_slug_a_repeated_slug_or_an_unclear_point_is_refused() {
        let sample = |slug: &str, field: &str| {
            format!(
                "[[sample]]\nslug = \"{slug}\"\ntitle = \"T\"\nsummary = \"S\"\nto = [\"A\"]\nbasis = \"B\"\n\
                 request = \"R\"\nattachments = []\nsignature = [\"Подпись\"]\n[[sample.field]]\nlabel = \"L\"\n{field}\n"
            )
        };
        let samples = |blocks: &[String]| with("samples.toml", &format!("lead = \"Образцы\"\n{}", blocks.concat()));
        assert!(samples(&[sample("ok-1", "lines = 2")]).is_ok());
        let problems = samples(&[sample("../x", "lines = 2")]).unwrap_err();
        assert!(problems[0].contains("lower-case Latin letters"), "{problems:?}");
        let twice = samples(&[sample("a", "lines = 1"), sample("a", "lines = 1")]).unwrap_err();
        assert_eq!(twice, ["samples.toml: sample 'a' appears twice"]);
        let problems = samples(&[sample("a", "lines = 2\nfilled = \"x\"")]).unwrap_err();
        assert!(problems[0].contains("exactly one of lines, filled or choices"), "{problems:?}");
        let problems = samples(&[sample("a", "lines = 40")]).unwrap_err();
        assert!(problems[0].contains("lines must be 1 to 6"), "{problems:?}");
    }

    #[test]
    fn unknown_keys_missing_files_and_other_links_are_refused() {
        let problems = with("faq.toml", "[[item]]\nquestion = \"?\"\nanswer = \"!\"\ncolour = \"red\"\n").unwrap_err();
        assert!(problems[0].starts_with("faq.toml: unknown field `colour`"), "{problems:?}");
        let problems = with(
            "territory.toml",
            "title = \"T\"\nlead = \"L\"\n[[link]]\ntitle = \"x\"\nurl = \"javascript:alert(1)\"\n",
        )
        .unwrap_err();
        assert_eq!(problems, ["territory.toml: link 'x': the address must start with http:// or https://"]);
        let sources = BUILT_IN.iter().map(|(n, t)| (n.to_string(), (*n != "offices.toml").then(|| t.to_string())));
        let problems = Content::parse(sources).unwrap_err();
        assert_eq!(problems, ["offices.toml: missing (every reception section needs its file)"]);
    }
}
