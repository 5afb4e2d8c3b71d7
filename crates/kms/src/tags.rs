//! Tags on keys and secrets: `TagKey = TagValue` pairs a team uses to find and group resources
//! (by project, environment, owner), with the cloud's tag rules, and the `TagFilters` lists match.

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, Result, err};

/// At most this many tags on one key or secret (the cloud's limit per resource).
pub const TAGS_MAX: usize = 50;
pub const TAG_KEY_MAX_CHARS: usize = 127;
pub const TAG_VALUE_MAX_CHARS: usize = 255;
/// Tag keys the cloud keeps for itself.
const RESERVED_PREFIXES: [&str; 3] = ["qcloud", "tencent", "project"];

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }

    /// `KEY=VALUE` (or `KEY` alone, an empty value), as the CLI takes it.
    pub fn parse(text: &str) -> Tag {
        match text.split_once('=') {
            Some((key, value)) => Tag::new(key.trim(), value.trim()),
            None => Tag::new(text.trim(), ""),
        }
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// One entry of `TagFilters`: resources with a tag `key` whose value is one of `values` (any value
/// when `values` is empty). A listing's filters must all match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub values: Vec<String>,
}

impl TagFilter {
    pub fn matches(&self, tags: &[Tag]) -> bool {
        tags.iter().any(|t| {
            t.key == self.key && (self.values.is_empty() || self.values.contains(&t.value))
        })
    }
}

/// Whether `tags` pass every filter.
pub fn all_match(filters: &[TagFilter], tags: &[Tag]) -> bool {
    filters.iter().all(|f| f.matches(tags))
}

/// Letters and digits of any script (Chinese included), spaces, and `+ - = . _ : / @ ( ) [ ]`
/// with their full-width brackets: what the cloud's tag service allows.
fn allowed_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "+-=._:/@()[]（）【】".contains(c)
}

fn check_text(text: &str, max_chars: usize, what_key: bool) -> Result<()> {
    let chars = text.chars().count();
    if what_key && chars == 0 {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.a_tag_key_is_empty"),
        );
    }
    if chars > max_chars {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.tag_text_is_too_long",
                text = text.chars().take(40).collect::<String>(),
                max = max_chars
            ),
        );
    }
    if let Some(bad) = text.chars().find(|&c| !allowed_char(c)) {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.tag_text_has_a_character",
                text = text,
                character = bad.to_string()
            ),
        );
    }
    Ok(())
}

/// The rules for a resource's whole set of tags: each key and value well formed, no key reserved
/// or given twice, at most `TAGS_MAX`.
pub fn validate_tags(tags: &[Tag]) -> Result<()> {
    if tags.len() > TAGS_MAX {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.at_most_max_tags",
                max = TAGS_MAX,
                count = tags.len()
            ),
        );
    }
    for (i, tag) in tags.iter().enumerate() {
        check_text(&tag.key, TAG_KEY_MAX_CHARS, true)?;
        check_text(&tag.value, TAG_VALUE_MAX_CHARS, false)?;
        let lower = tag.key.to_lowercase();
        if RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p)) {
            return err(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.tag_key_is_reserved", key = tag.key),
            );
        }
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return err(
                ErrorCode::TagKeysDuplicated,
                keyconsole_base::text!("errors.tag_key_given_twice", key = tag.key),
            );
        }
    }
    Ok(())
}

/// `current` with `set` added (replacing the value of a key already there) and the keys in
/// `remove` taken away; checked as a whole. The order is kept, new keys last.
pub fn edited(current: &[Tag], set: &[Tag], remove: &[String]) -> Result<Vec<Tag>> {
    validate_tags(set)?;
    let mut tags: Vec<Tag> = current
        .iter()
        .filter(|t| !remove.contains(&t.key))
        .cloned()
        .collect();
    for tag in set {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value.clone_from(&tag.value),
            None => tags.push(tag.clone()),
        }
    }
    validate_tags(&tags)?;
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(validate_tags(&[Tag::new("env", "prod"), Tag::new("项目", "支付 (一期)")]).is_ok());
        assert!(validate_tags(&[Tag::new("team", "")]).is_ok());
        for bad in [
            Tag::new("", "x"),
            Tag::new("qcloud:x", "1"),
            Tag::new("Tencent", "1"),
            Tag::new("a;b", "1"),
            Tag::new("k", "v\n"),
            Tag::new("k".repeat(128), "v"),
            Tag::new("k", "v".repeat(256)),
        ] {
            assert_eq!(
                validate_tags(std::slice::from_ref(&bad)).unwrap_err().code,
                ErrorCode::InvalidParameterValue,
                "{bad:?}"
            );
        }
        let twice = [Tag::new("env", "a"), Tag::new("env", "b")];
        assert_eq!(
            validate_tags(&twice).unwrap_err().code,
            ErrorCode::TagKeysDuplicated
        );
        let many: Vec<Tag> = (0..51).map(|i| Tag::new(format!("k{i}"), "v")).collect();
        assert!(validate_tags(&many).is_err());
    }

    #[test]
    fn editing_and_filters() {
        let tags = edited(
            &[Tag::new("env", "test"), Tag::new("team", "pay")],
            &[Tag::new("env", "prod"), Tag::new("owner", "li")],
            &["team".to_owned()],
        )
        .unwrap();
        assert_eq!(tags, [Tag::new("env", "prod"), Tag::new("owner", "li")]);
        let env = |values: &[&str]| TagFilter {
            key: "env".into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        assert!(all_match(&[env(&[])], &tags));
        assert!(all_match(&[env(&["dev", "prod"])], &tags));
        assert!(!all_match(&[env(&["dev"])], &tags));
        assert!(!all_match(
            &[
                env(&[]),
                TagFilter {
                    key: "team".into(),
                    values: vec![]
                }
            ],
            &tags
        ));
        assert_eq!(Tag::parse(" env = prod "), Tag::new("env", "prod"));
        assert_eq!(Tag::parse("solo"), Tag::new("solo", ""));
    }
}
