//! Tags on the command line: `--tag KEY=VALUE` to set, `--tag KEY[=VALUE]` to filter a listing,
//! and `key tag` / `secret tag` to edit.

use clap::Args;

use keyconsole_kms::{Tag, TagFilter};

/// `KEY=VALUE` pairs; `KEY` alone has an empty value.
pub fn parse(items: &[String]) -> Vec<Tag> {
    items.iter().map(|item| Tag::parse(item)).collect()
}

/// `KEY` (any value) or `KEY=VALUE`; the same key twice accepts either value.
pub fn filters(items: &[String]) -> Vec<TagFilter> {
    let mut filters: Vec<TagFilter> = Vec::new();
    for item in items {
        let (key, value) = match item.split_once('=') {
            Some((key, value)) => (key.trim(), Some(value.trim())),
            None => (item.trim(), None),
        };
        let at = match filters.iter().position(|f| f.key == key) {
            Some(at) => at,
            None => {
                filters.push(TagFilter {
                    key: key.to_owned(),
                    values: Vec::new(),
                });
                filters.len() - 1
            }
        };
        if let Some(value) = value {
            filters[at].values.push(value.to_owned());
        }
    }
    filters
}

/// `a=1, b=2` (or `-`).
pub fn summary(tags: &[Tag]) -> String {
    if tags.is_empty() {
        return "-".to_owned();
    }
    tags.iter()
        .map(Tag::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `key tag` and `secret tag` change; with neither option they print the tags.
#[derive(Debug, Args)]
pub struct TagEdit {
    /// Add a tag or give it a new value (repeatable)
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Remove the tag with this key (repeatable)
    #[arg(long, value_name = "KEY")]
    pub remove: Vec<String>,
}

impl TagEdit {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

/// One tag a line, `KEY=VALUE`.
pub fn print(tags: &[Tag]) {
    for tag in tags {
        println!("{}", super::output::terminal_safe(&tag.to_string()));
    }
}
