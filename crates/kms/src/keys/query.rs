//! Finding keys: by KeyId or alias, and filtered, sorted, paged listings.

use uuid::Uuid;

use super::record::{KeyMetadata, KeyOrigin, KeyOwner};
use super::rules::{
    DESCRIBE_MAX_KEYS, LIST_LIMIT_MAX, check_key_count, check_list_limit, search_needle,
    validate_alias,
};
use super::spec::StateFilter;
use crate::Kms;
use crate::error::{ErrorCode, KmsError, Result, err};
use crate::keyring::{KeyRef, Keyring, Keys};
use crate::tags::TagFilter;

/// Sort order of key lists, by creation time (ListKeyDetail's OrderType 0 and 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// A filtered, sorted, paged listing (ListKeys / ListKeyDetail).
#[derive(Debug, Clone, Default)]
pub struct KeyQuery {
    pub state: StateFilter,
    /// Case-insensitive substring of the KeyId or the alias.
    pub search: Option<String>,
    pub order: Order,
    pub offset: usize,
    /// At most `LIST_LIMIT_MAX` when given; `None` lists every match.
    pub limit: Option<usize>,
    /// Only keys made by the user, or only those a service made for itself; every key when `None`.
    pub owner: Option<KeyOwner>,
    pub origin: OriginFilter,
    /// Only keys of this usage (the cloud's name, `ENCRYPT_DECRYPT`); every usage when `None`.
    pub usage: Option<String>,
    /// Every filter must match (see `TagFilter`).
    pub tags: Vec<TagFilter>,
}

/// ListKeyDetail's `Origin`: keys whose material keyconsole made, or imported material.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OriginFilter {
    #[default]
    Any,
    Generated,
    /// EXTERNAL keys: their material is imported.
    Imported,
}

impl OriginFilter {
    fn matches(self, origin: KeyOrigin) -> bool {
        match self {
            OriginFilter::Any => true,
            OriginFilter::Generated => origin == KeyOrigin::Generated,
            OriginFilter::Imported => origin == KeyOrigin::External,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct KeyPage {
    /// Matches before paging.
    pub total: usize,
    pub keys: Vec<KeyMetadata>,
}

/// Case-insensitive (ASCII) substring test without allocating; keys ids and aliases are ASCII.
pub(crate) fn contains_ignore_case(haystack: &str, needle_lower: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle_lower.as_bytes());
    n.is_empty()
        || h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// The position of `key` (a KeyId or an alias) in `ring`.
pub(crate) fn resolve_in(ring: &Keyring, key: &str) -> Result<usize> {
    let key = key.trim();
    if key.is_empty() {
        return err(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.keyid_is_missing_give_a_keyid"),
        );
    }
    // Only what has the length of a UUID's forms is parsed as one: a failed parse builds an
    // error, which every call by alias paid.
    if matches!(key.len(), 32 | 36 | 38 | 45)
        && let Ok(id) = Uuid::parse_str(key)
    {
        return ring.by_id.get(&id).copied().ok_or_else(|| {
            KmsError::new(
                ErrorCode::CmkNotFound,
                keyconsole_base::text!("errors.no_key_has_the_keyid_key", key = key),
            )
        });
    }
    if validate_alias(key).is_err() {
        return err(
            ErrorCode::InvalidKeyId,
            keyconsole_base::text!("errors.that_is_neither_a_keyid_a"),
        );
    }
    let found = if key.bytes().any(|b| b.is_ascii_uppercase()) {
        ring.by_alias.get(&key.to_ascii_lowercase())
    } else {
        ring.by_alias.get(key)
    };
    found.copied().ok_or_else(|| {
        KmsError::new(
            ErrorCode::CmkNotFound,
            keyconsole_base::text!("errors.no_key_has_the_alias_key", key = key),
        )
    })
}

impl Kms {
    pub(crate) fn key(&self, key: &str) -> Result<KeyRef> {
        let ring = self.ring();
        let index = resolve_in(&ring, key)?;
        Ok(KeyRef::new(ring, index))
    }

    /// The KeyId that `key` (a KeyId or an alias) names in this keystore, if any.
    pub fn key_id_of(&self, key: &str) -> Option<String> {
        self.key(key).ok().map(|record| record.key_id.to_string())
    }

    /// Every key, in keystore order (creation order).
    pub fn keys(&self) -> Keys {
        Keys::new(self.ring())
    }

    pub fn describe_key(&self, key: &str) -> Result<KeyMetadata> {
        Ok(self.key(key)?.metadata())
    }

    /// DescribeKeys: up to 100 keys at once, all found or an error.
    pub fn describe_keys<S: AsRef<str>>(&self, keys: &[S]) -> Result<Vec<KeyMetadata>> {
        check_key_count(
            keys.len(),
            DESCRIBE_MAX_KEYS,
            keyconsole_base::text!("errors.described"),
        )?;
        keys.iter().map(|k| self.describe_key(k.as_ref())).collect()
    }

    pub fn list_keys(&self, query: &KeyQuery) -> Result<KeyPage> {
        let keys = self.keys();
        let matches = keys.matching(query)?;
        let total = matches.len();
        let keys = matches
            .into_iter()
            .skip(query.offset)
            .take(query.limit.unwrap_or(usize::MAX))
            .map(|i| keys[i].metadata())
            .collect();
        Ok(KeyPage { total, keys })
    }
}

impl Keys {
    /// Positions in these keys of every key the query matches, sorted, before paging. Lets a face
    /// show 100,000 keys without copying them.
    pub fn matching(&self, query: &KeyQuery) -> Result<Vec<usize>> {
        if let Some(limit) = query.limit {
            check_list_limit(limit, LIST_LIMIT_MAX)?;
        }
        let needle = search_needle(query.search.as_deref());
        let mut id_text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let mut matches: Vec<usize> = self
            .iter()
            .enumerate()
            .filter(|(_, k)| query.state.matches(k.state))
            .filter(|(_, k)| query.owner.is_none_or(|o| o == k.owner))
            .filter(|(_, k)| query.origin.matches(k.origin))
            .filter(|(_, k)| query.usage.as_deref().is_none_or(|u| u == k.usage.as_str()))
            .filter(|(_, k)| crate::tags::all_match(&query.tags, &k.tags))
            .filter(|(_, k)| {
                needle.is_empty()
                    || contains_ignore_case(&k.alias, &needle)
                    || contains_ignore_case(
                        k.key_id.hyphenated().encode_lower(&mut id_text),
                        &needle,
                    )
            })
            .map(|(i, _)| i)
            .collect();
        // Stable sorts: keys made in the same second keep their creation order.
        let created = |i: &usize| self[*i].create_time;
        match query.order {
            Order::OldestFirst => matches.sort_by_key(created),
            Order::NewestFirst => {
                matches.reverse();
                matches.sort_by_key(|i| std::cmp::Reverse(created(i)));
            }
        }
        Ok(matches)
    }
}
