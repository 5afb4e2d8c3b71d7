//! Every key's metadata as one snapshot: what a key list draws from. Built once per keyring
//! generation (the local engine) or per listing (a remote server); it holds no key material, so it
//! can cross the service boundary and live in a face for as long as the face likes.

use std::collections::HashMap;

use super::query::{KeyQuery, Order, contains_ignore_case};
use super::record::KeyMetadata;
use super::rules::{search_needle, validate_alias};
use crate::error::{ErrorCode, KmsError, Result};

#[derive(Debug, Default)]
pub struct KeyIndex {
    /// Creation order (oldest first; keys of one second in the order they were made).
    keys: Vec<KeyMetadata>,
    by_id: HashMap<String, usize>,
    /// Aliases lowercased: they are case-insensitive.
    by_alias: HashMap<String, usize>,
}

impl KeyIndex {
    /// `keys` in creation order; a listing in another order is sorted (stably) by creation time.
    pub fn new(mut keys: Vec<KeyMetadata>) -> KeyIndex {
        if !keys.is_sorted_by_key(|k| k.create_time) {
            keys.sort_by_key(|k| k.create_time);
        }
        let by_id = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.key_id.clone(), i))
            .collect();
        let by_alias = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.alias.to_ascii_lowercase(), i))
            .collect();
        KeyIndex {
            keys,
            by_id,
            by_alias,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, KeyMetadata> {
        self.keys.iter()
    }

    /// The key with this KeyId or alias (aliases in any case).
    pub fn find(&self, key: &str) -> Option<&KeyMetadata> {
        let key = key.trim();
        self.by_id
            .get(key)
            .or_else(|| self.by_alias.get(&key.to_ascii_lowercase()))
            .map(|&i| &self.keys[i])
    }

    /// Whether another key than `except` (a KeyId) has `alias`.
    pub fn alias_taken(&self, alias: &str, except: Option<&str>) -> bool {
        self.by_alias
            .get(&alias.trim().to_ascii_lowercase())
            .is_some_and(|&i| except != Some(self.keys[i].key_id.as_str()))
    }

    /// Would `alias` be accepted for a new key (or, with `except`, a KeyId, as that key's new
    /// alias)? For live validation in forms, by the engine's rule and with its words; the change
    /// itself checks again.
    pub fn check_alias(&self, alias: &str, except: Option<&str>) -> Result<()> {
        validate_alias(alias)?;
        if self.alias_taken(alias, except) {
            return Err(KmsError::new(
                ErrorCode::AliasAlreadyExists,
                keyconsole_base::text!("errors.the_alias_alias_is_already_used", alias = alias),
            ));
        }
        Ok(())
    }

    /// Positions of the keys `query` matches (state, KeyId or alias fragment), in its order; its
    /// paging is not applied. The same matching as ListKeyDetail's.
    pub fn matching(&self, query: &KeyQuery) -> Vec<usize> {
        let needle = search_needle(query.search.as_deref());
        let mut matches: Vec<usize> = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| query.state.matches(k.key_state))
            .filter(|(_, k)| {
                needle.is_empty()
                    || contains_ignore_case(&k.alias, &needle)
                    || contains_ignore_case(&k.key_id, &needle)
            })
            .map(|(i, _)| i)
            .collect();
        let created = |i: &usize| self.keys[*i].create_time;
        match query.order {
            Order::OldestFirst => matches.sort_by_key(created),
            Order::NewestFirst => {
                matches.reverse();
                matches.sort_by_key(|i| std::cmp::Reverse(created(i)));
            }
        }
        matches
    }
}

impl std::ops::Index<usize> for KeyIndex {
    type Output = KeyMetadata;
    fn index(&self, i: usize) -> &KeyMetadata {
        &self.keys[i]
    }
}
