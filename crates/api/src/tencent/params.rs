//! An action's parameters, from a JSON body (POST) or a query string (GET), read by name and type.
//!
//! The SDKs flatten lists for GET as `KeyIds.0=a&KeyIds.1=b`; those are gathered back into a list,
//! so every action reads its parameters the same way whichever method carried them.

use serde_json::{Map, Value};

use keyconsole_base::util::i18n::Text;
use keyconsole_kms::{ErrorCode, KmsError, Result, Tag, TagFilter};

/// Parameters carry plaintexts (base64) and data keys: their strings are wiped when dropped.
#[derive(Debug, Default)]
pub struct Params(Map<String, Value>);

impl Drop for Params {
    fn drop(&mut self) {
        wipe_map(&mut self.0);
    }
}

/// Overwrites every string in `map` (keys and values) with zeros, in place.
pub fn wipe_map(map: &mut Map<String, Value>) {
    for (_, value) in std::mem::take(map) {
        let mut value = value;
        wipe_value(&mut value);
    }
}

fn wipe_value(value: &mut Value) {
    match value {
        Value::String(text) => keyconsole_base::util::secret::wipe_string(text),
        Value::Array(items) => items.iter_mut().for_each(wipe_value),
        Value::Object(map) => wipe_map(map),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Whether a parameter asks for its default (what leaving it out means): null, "", 0, false, an
/// empty list or object, or their text forms in a query.
pub fn is_default(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => matches!(s.trim(), "" | "0" | "false"),
        Value::Array(items) => items.iter().all(is_default),
        Value::Object(map) => map.values().all(is_default),
    }
}

/// A flattened form name's tree, before it becomes JSON: a branch whose segments are all numbers
/// is a list (in number order, gaps closed), any other an object.
enum FormNode {
    Leaf(String),
    Branch(std::collections::BTreeMap<Segment, FormNode>),
}

/// A name segment; numbers sort by value (`2` before `10`).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Index(u64),
    Name(String),
}

impl Segment {
    fn of(text: &str) -> Segment {
        match text.parse::<u64>() {
            Ok(n) if text.bytes().all(|b| b.is_ascii_digit()) => Segment::Index(n),
            _ => Segment::Name(text.to_owned()),
        }
    }
}

impl FormNode {
    /// Puts `value` at `path`; a path that clashes with a value already there is dropped.
    fn insert(&mut self, path: &[&str], value: String) {
        let FormNode::Branch(children) = self else {
            return;
        };
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let child = children
            .entry(Segment::of(first))
            .or_insert_with(|| FormNode::Branch(Default::default()));
        if rest.is_empty() {
            if matches!(child, FormNode::Branch(c) if c.is_empty()) {
                *child = FormNode::Leaf(value);
            }
        } else {
            child.insert(rest, value);
        }
    }

    fn into_json(self) -> Value {
        match self {
            FormNode::Leaf(text) => Value::String(text),
            FormNode::Branch(children) => {
                if !children.is_empty() && children.keys().all(|k| matches!(k, Segment::Index(_))) {
                    Value::Array(children.into_values().map(FormNode::into_json).collect())
                } else {
                    Value::Object(
                        children
                            .into_iter()
                            .map(|(k, v)| {
                                let name = match k {
                                    Segment::Index(n) => n.to_string(),
                                    Segment::Name(name) => name,
                                };
                                (name, v.into_json())
                            })
                            .collect(),
                    )
                }
            }
        }
    }
}

fn invalid(name: &str, what: impl Into<Text>) -> KmsError {
    let what: Text = what.into();
    KmsError::new(
        ErrorCode::InvalidParameter,
        keyconsole_base::text!(
            "errors.the_parameter_name_must_be_what",
            name = name,
            what = what
        ),
    )
}

fn missing(name: &str) -> KmsError {
    KmsError::new(
        ErrorCode::MissingParameter,
        keyconsole_base::text!("errors.the_parameter_name_is_missing", name = name),
    )
}

impl Params {
    /// A POST body: a JSON object (an empty body is no parameters).
    pub fn from_json(body: &[u8]) -> Result<Params> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Params(map)),
            _ => Err(KmsError::new(
                ErrorCode::InvalidParameter,
                keyconsole_base::text!("errors.the_request_body_is_not_a"),
            )),
        }
    }

    /// A query string (or form body): every value is a string; the SDKs' flattened names are
    /// gathered back (`KeyIds.0=a` into a list, `Tags.0.TagKey=k` into a list of objects).
    pub fn from_form(query: &str) -> Params {
        let mut root = FormNode::Branch(Default::default());
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let path: Vec<&str> = name.split('.').collect();
            root.insert(&path, value.into_owned());
        }
        match root.into_json() {
            Value::Object(map) => Params(map),
            _ => Params::default(),
        }
    }

    /// Every parameter given (not null), by name.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.as_str(), v))
    }

    /// A list of objects (`Tags`, `TagFilters`), each read by `item`.
    pub fn objects<T>(
        &self,
        name: &str,
        item: impl Fn(&Map<String, Value>) -> Option<T>,
        what: impl Fn() -> Text,
    ) -> Result<Vec<T>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_object()
                        .and_then(&item)
                        .ok_or_else(|| invalid(name, what()))
                })
                .collect(),
            Some(_) => Err(invalid(name, what())),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn str(&self, name: &str) -> Result<Option<&str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(name, keyconsole_base::text!("errors.a_string"))),
        }
    }

    /// A string that must be present and not empty.
    pub fn required_str(&self, name: &str) -> Result<&str> {
        match self.str(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(missing(name)),
        }
    }

    /// A whole number, as a JSON number or (GET) a string of digits.
    pub fn u64(&self, name: &str) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
                invalid(
                    name,
                    keyconsole_base::text!("errors.a_whole_number_of_0_or"),
                )
            }),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
                invalid(
                    name,
                    keyconsole_base::text!("errors.a_whole_number_of_0_or"),
                )
            }),
            Some(_) => Err(invalid(
                name,
                keyconsole_base::text!("errors.a_whole_number_of_0_or"),
            )),
        }
    }

    /// true or false, as JSON or (GET) as text.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(invalid(
                    name,
                    keyconsole_base::text!("errors.true_or_false"),
                )),
            },
            Some(_) => Err(invalid(
                name,
                keyconsole_base::text!("errors.true_or_false"),
            )),
        }
    }

    /// A number that fits in u32 (day counts, byte counts).
    pub fn u32(&self, name: &str) -> Result<Option<u32>> {
        self.u64(name)?
            .map(|n| {
                u32::try_from(n)
                    .map_err(|_| invalid(name, keyconsole_base::text!("errors.at_most_4294967295")))
            })
            .transpose()
    }

    pub fn required_u32(&self, name: &str) -> Result<u32> {
        self.u32(name)?.ok_or_else(|| missing(name))
    }

    /// `Tags`: `[{"TagKey": k, "TagValue": v}]` (a missing value is empty).
    pub fn tags(&self, name: &str) -> Result<Vec<Tag>> {
        self.objects(
            name,
            |item| {
                let key = item.get("TagKey")?.as_str()?;
                let value = match item.get("TagValue") {
                    None | Some(Value::Null) => "",
                    Some(value) => value.as_str()?,
                };
                Some(Tag::new(key, value))
            },
            || keyconsole_base::text!("errors.a_list_of_tagkey_tagvalue"),
        )
    }

    /// `TagFilters`: `[{"TagKey": k, "TagValue": [v, ...]}]` (no values: any value).
    pub fn tag_filters(&self, name: &str) -> Result<Vec<TagFilter>> {
        self.objects(
            name,
            |item| {
                let key = item.get("TagKey")?.as_str()?.to_owned();
                let values = match item.get("TagValue") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(values)) => values
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()?,
                    Some(Value::String(value)) => vec![value.clone()],
                    Some(_) => return None,
                };
                Some(TagFilter { key, values })
            },
            || keyconsole_base::text!("errors.a_list_of_tagkey_tagvalue_lists"),
        )
    }

    /// An HSM cluster id (`HsmClusterId`, `KmsHsmClusterId`): keyconsole has no HSM clusters, so
    /// any but the empty one is refused with `code`.
    pub fn no_hsm_cluster(&self, name: &str, code: ErrorCode) -> Result<()> {
        match self.str(name)? {
            Some(id) if !id.trim().is_empty() => Err(KmsError::new(
                code,
                keyconsole_base::text!("errors.no_hsm_cluster", name = name, id = id),
            )),
            _ => Ok(()),
        }
    }

    /// A list of strings if given (`["a","b"]`, or `Name.0=a` in a query).
    pub fn get_list(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.required_str_list(name).map(Some).or_else(|e| {
                if e.code == ErrorCode::MissingParameter {
                    Ok(Some(Vec::new()))
                } else {
                    Err(e)
                }
            }),
        }
    }

    /// A list of strings (`["a","b"]`, or `Name.0=a&Name.1=b` in a query).
    pub fn required_str_list(&self, name: &str) -> Result<Vec<String>> {
        match self.get(name) {
            None => Err(missing(name)),
            Some(Value::Array(items)) if items.is_empty() => Err(missing(name)),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(invalid(
                        name,
                        keyconsole_base::text!("errors.a_list_of_strings"),
                    )),
                })
                .collect(),
            Some(_) => Err(invalid(
                name,
                keyconsole_base::text!("errors.a_list_of_strings"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_reads_like_a_json_body() {
        let form =
            Params::from_form("KeyIds.1=b&KeyIds.0=a&Limit=20&Context=%7B%22a%22%3A+%22b%22%7D");
        let json =
            Params::from_json(br#"{"KeyIds":["a","b"],"Limit":20,"Context":"{\"a\": \"b\"}"}"#)
                .unwrap();
        for params in [form, json] {
            assert_eq!(params.required_str_list("KeyIds").unwrap(), ["a", "b"]);
            assert_eq!(params.u64("Limit").unwrap(), Some(20));
            assert_eq!(params.str("Context").unwrap(), Some(r#"{"a": "b"}"#));
            assert_eq!(
                params.required_str("KeyId").unwrap_err().code,
                ErrorCode::MissingParameter
            );
        }
    }

    /// The SDKs flatten lists of objects for GET (`Tags.0.TagKey`, `TagFilters.0.TagValue.1`):
    /// they read back as the JSON body would carry them, lists in index order (10 after 2).
    #[test]
    fn nested_lists_in_a_query_read_like_json() {
        let form = Params::from_form(
            "Tags.1.TagKey=team&Tags.0.TagKey=env&Tags.0.TagValue=prod&Tags.1.TagValue=pay\
             &TagFilters.0.TagKey=env&TagFilters.0.TagValue.1=test&TagFilters.0.TagValue.0=prod\
             &KeyIds.10=k&KeyIds.2=j&Tags.0=clash",
        );
        let json = Params::from_json(
            br#"{"Tags":[{"TagKey":"env","TagValue":"prod"},{"TagKey":"team","TagValue":"pay"}],
                 "TagFilters":[{"TagKey":"env","TagValue":["prod","test"]}],"KeyIds":["j","k"]}"#,
        )
        .unwrap();
        for params in [form, json] {
            assert_eq!(
                params.tags("Tags").unwrap(),
                [Tag::new("env", "prod"), Tag::new("team", "pay")]
            );
            assert_eq!(
                params.tag_filters("TagFilters").unwrap(),
                [TagFilter {
                    key: "env".into(),
                    values: vec!["prod".into(), "test".into()]
                }]
            );
            assert_eq!(params.required_str_list("KeyIds").unwrap(), ["j", "k"]);
        }
        assert_eq!(
            Params::from_json(br#"{"Tags":[{"TagValue":"x"}]}"#)
                .unwrap()
                .tags("Tags")
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
    }

    #[test]
    fn wrong_types_and_bodies_are_refused_with_codes() {
        for body in [&b"[1,2]"[..], b"{", b"\"x\"", b"{\"a\":1}}"] {
            assert_eq!(
                Params::from_json(body).unwrap_err().code,
                ErrorCode::InvalidParameter
            );
        }
        let params =
            Params::from_json(br#"{"KeyId":7,"Limit":-1,"Days":"x","KeyIds":"a"}"#).unwrap();
        assert_eq!(
            params.str("KeyId").unwrap_err().code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            params.u64("Limit").unwrap_err().code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            params.u32("Days").unwrap_err().code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            params.required_str_list("KeyIds").unwrap_err().code,
            ErrorCode::InvalidParameter
        );
        assert!(
            Params::from_json(b"")
                .unwrap()
                .str("KeyId")
                .unwrap()
                .is_none()
        );
    }
}
